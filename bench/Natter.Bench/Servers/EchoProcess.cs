using System.Diagnostics;
using Natter.Testing;
using System.Net;
using System.Net.Sockets;

namespace Natter.Bench.Servers;

/// <summary>The raw Kestrel echo baseline as a child process of the harness.</summary>
public sealed class EchoProcess : IAsyncDisposable
{
    private readonly Process _process;

    private EchoProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }
    public int ProcessId => _process.Id;

    public static async Task<EchoProcess> StartAsync()
    {
        var port = FreePorts.Next();

        var self = Path.Combine(AppContext.BaseDirectory, "Natter.Bench.dll");
        var process = Process.Start(new ProcessStartInfo("dotnet", $"\"{self}\" serve-echo --port {port}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var echo = new EchoProcess(process, new Uri($"http://127.0.0.1:{port}"));
        using var http = new HttpClient();
        await Readiness.WaitAsync(http, echo.BaseAddress, TimeSpan.FromSeconds(30));
        return echo;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
