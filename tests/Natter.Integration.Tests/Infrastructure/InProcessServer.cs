using Natter.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Natter.Cluster.Edge;
using IVerificationCodeSender = Natter.Cluster.Edge.Auth.IVerificationCodeSender;
using Natter.Client;

namespace Natter.Integration.Tests.Infrastructure;

/// <summary>
/// The production edge (both roles, real Kestrel on 127.0.0.1, a real journal) hosted in the test process.
/// Only the verification-code sender is swapped, for one that lets tests read the code.
/// </summary>
public sealed class InProcessServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http;
    private readonly bool _ownsDataDirectory;

    private InProcessServer(WebApplication app, RecordingCodeSender codes, string dataDirectory, bool ownsDataDirectory)
    {
        _app = app;
        _ownsDataDirectory = ownsDataDirectory;
        Codes = codes;
        DataDirectory = dataDirectory;
        BaseAddress = new Uri(app.Urls.First());
        _http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Api = new NatterHttpClient(_http);
    }

    public Uri BaseAddress { get; }
    public NatterHttpClient Api { get; }
    public RecordingCodeSender Codes { get; }
    public string DataDirectory { get; }
    public IServiceProvider Services => _app.Services;

    /// <param name="dataDirectory">
    /// A folder the caller made and removes (to start a server again on the same data); by default a new one that
    /// goes with this server when it is disposed.
    /// </param>
    /// <param name="services">Services added before the host's own, which a host keeps over its own (a push adapter, say).</param>
    public static async Task<InProcessServer> StartAsync(Journal journal, string? dataDirectory = null,
        IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null)
    {
        var ownsDataDirectory = dataDirectory is null;
        dataDirectory ??= TempDirectory.Create("natter-server");
        var codes = new RecordingCodeSender();
        var settings = journal.Settings(dataDirectory);
        settings["Urls"] = "http://127.0.0.1:0";
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>()) settings[key] = value;

        var app = EdgeHost.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddProvider(new FileLoggerProvider(Path.Combine(dataDirectory, "server.log")));
            builder.Services.AddSingleton<IVerificationCodeSender>(codes);
            services?.Invoke(builder.Services);
        });
        await app.StartAsync();
        var server = new InProcessServer(app, codes, dataDirectory, ownsDataDirectory);
        await Readiness.WaitAsync(server._http, server.BaseAddress, TimeSpan.FromSeconds(60));
        return server;
    }

    /// <summary>Registers a new account through the public API (an existing one's phone again: a new primary device, the others logged out).</summary>
    public async Task<DeviceSession> RegisterAsync(string? phone = null, string device = "phone")
    {
        phone ??= Phones.Next();
        var started = await Api.RegisterAsync(phone);
        return await Api.VerifyAsync(phone, Codes.CodeFor(started.UserId), device);
    }

    /// <summary>Links a new device to <paramref name="approver"/>'s account, approved by that device, as a user would.</summary>
    public async Task<DeviceSession> LinkDeviceAsync(DeviceSession approver, string device)
    {
        var link = await Api.RequestLinkAsync("+" + approver.UserId, device);
        await Api.ApproveLinkAsync(approver.AccessToken, link.LinkId, link.ApprovalCode);
        return await Api.CompleteLinkAsync(link.LinkId, link.DeviceSecret);
    }

    public Task<NatterConnection> ConnectAsync(DeviceSession session, ReceivedMessages? received = null) =>
        NatterConnection.ConnectAsync(BaseAddress, session.AccessToken, received);

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        if (_ownsDataDirectory) TempDirectory.Delete(DataDirectory);
    }
}
