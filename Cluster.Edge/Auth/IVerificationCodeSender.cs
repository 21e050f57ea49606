using Natter.Messages;

namespace Natter.Cluster.Edge.Auth;

/// <summary>Delivers a verification code to a phone (SMS, voice, ...). Pluggable; the default logs it.</summary>
public interface IVerificationCodeSender
{
    Task SendAsync(UserId phone, string code, CancellationToken cancellationToken);
}

/// <summary>The embedded default: writes the code to the log, for development and tests.</summary>
public sealed class LoggingVerificationCodeSender(ILogger<LoggingVerificationCodeSender> logger) : IVerificationCodeSender
{
    public Task SendAsync(UserId phone, string code, CancellationToken cancellationToken)
    {
        logger.LogWarning("Verification code for +{Phone}: {Code} (logged because no SMS sender is configured)", phone, code);
        return Task.CompletedTask;
    }
}
