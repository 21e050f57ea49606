using Natter.Testing;
using System.Collections.Concurrent;
using Natter.Cluster.Edge.Auth;
using Natter.Messages;

namespace Natter.Integration.Tests.Infrastructure;

/// <summary>An SMS gateway for tests: the pluggable sender, keeping the last code sent to each phone.</summary>
public sealed class RecordingCodeSender : IVerificationCodeSender
{
    private readonly ConcurrentDictionary<string, string> _codes = new();

    public Task SendAsync(UserId phone, string code, CancellationToken cancellationToken)
    {
        _codes[phone.Value] = code;
        return Task.CompletedTask;
    }

    public string CodeFor(string userId) => _codes[userId];
}
