using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Natter.Client;

namespace Natter.Testing;

/// <summary>
/// The edge as its own OS process (the same binary `dotnet run --project Cluster.Edge` runs), so a test
/// can kill it outright and start it again on the same data. Verification codes are read from its log,
/// where the embedded default sender writes them.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentDictionary<string, string> _codes = new();
    private readonly ConcurrentQueue<string> _log = new();
    private readonly object _echoGate = new();
    private bool _echoing; // within an error entry, whose lines go to this process's stderr too
    private int _errorsEchoed;
    private readonly HttpClient _http;

    private ServerProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Api = new NatterHttpClient(_http);
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseAddress { get; }
    public NatterHttpClient Api { get; }
    public IEnumerable<string> Log => _log;

    public int ProcessId => _process.Id;

    /// <param name="program">The binary beside this one to run: the edge (default), or <c>Natter.Cluster.Node.dll</c> for a node-only process.</param>
    public static async Task<ServerProcess> StartAsync(Journal journal, string dataDirectory, int? port = null,
        IDictionary<string, string?>? settings = null, string program = "Natter.Cluster.Edge.dll")
    {
        port ??= FreePorts.Next();
        var binary = Path.Combine(AppContext.BaseDirectory, program);
        var start = new ProcessStartInfo("dotnet", $"\"{binary}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dataDirectory,
        };
        // Unprefixed: the edge's appsettings.json sets "Urls", which outranks ASPNETCORE_URLS.
        start.Environment["URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in journal.Settings(dataDirectory).Concat(settings ?? new Dictionary<string, string?>()))
            start.Environment[key.Replace(":", "__")] = value;

        var server = new ServerProcess(Process.Start(start)!, new Uri($"http://127.0.0.1:{port}"));
        try
        {
            await Readiness.WaitAsync(server._http, server.BaseAddress, TimeSpan.FromSeconds(90),
                () => server._process.HasExited ? $"server exited with {server._process.ExitCode}" : null);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new InvalidOperationException($"{e.Message}:\n{string.Join('\n', server._log)}", e);
        }
        return server;
    }

    /// <summary>Kills the process at once, as a crash would: no shutdown hooks, no flushing.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async Task<DeviceSession> RegisterAsync(string? phone = null, string device = "phone")
    {
        phone ??= Phones.Next();
        var started = await Api.RegisterAsync(phone);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!_codes.ContainsKey(started.UserId) && DateTime.UtcNow < deadline) await Task.Delay(20);
        return await Api.VerifyAsync(phone, _codes[started.UserId], device);
    }

    public Task<NatterConnection> ConnectAsync(DeviceSession session, ReceivedMessages? received = null) =>
        NatterConnection.ConnectAsync(BaseAddress, session.AccessToken, received);

    private void OnLine(string? line)
    {
        if (line is null) return;
        if (_log.Count < 10_000) _log.Enqueue(line);
        if (CodeLine().Match(line) is { Success: true } match) _codes[match.Groups[1].Value] = match.Groups[2].Value;
        EchoErrors(line);
    }

    /// <summary>
    /// The server's errors (console entries at <c>fail</c> or <c>crit</c>, with their indented lines) go where the run's
    /// own output goes: they explain a failed request after the server and its data are gone. The first 50 only.
    /// </summary>
    private void EchoErrors(string line)
    {
        lock (_echoGate)
        {
            if (line.StartsWith("fail: ", StringComparison.Ordinal) || line.StartsWith("crit: ", StringComparison.Ordinal))
                _echoing = ++_errorsEchoed <= MaxErrorsEchoed;
            else if (!line.StartsWith(' ')) _echoing = false;
            if (_echoing) Console.Error.WriteLine($"server {_process.Id}: {line}");
        }
    }

    private const int MaxErrorsEchoed = 50;


    [GeneratedRegex(@"Verification code for \+(\d+): (\d{6})")]
    private static partial Regex CodeLine();

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await KillAsync();
        _process.Dispose();
    }
}
