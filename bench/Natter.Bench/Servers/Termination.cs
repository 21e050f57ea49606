using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Natter.Bench.Servers;

/// <summary>
/// Stops what a run started when the harness is interrupted (SIGINT, SIGTERM, SIGHUP), so that a run killed
/// halfway leaves no server behind. Child processes (Natter, the echo server, ejabberd's VM) are killed with
/// their trees; servers that detach from the harness (PostgreSQL under pg_ctl, ejabberd's epmd) are stopped by
/// their own cleanup, registered with <see cref="Track{T}"/>.
/// </summary>
public static class Termination
{
    private static readonly Lock Gate = new();
    private static readonly List<IAsyncDisposable> Detached = [];
    private static readonly TimeSpan CleanupBudget = TimeSpan.FromSeconds(15);

    /// <summary>Handles the signals until disposed (at the end of the run).</summary>
    public static IDisposable Install() =>
        new Registrations([.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }
            .Select(signal => PosixSignalRegistration.Create(signal, OnSignal))]);

    /// <summary>Registers a server that outlives the harness's process tree; its DisposeAsync stops it.</summary>
    public static T Track<T>(T server) where T : IAsyncDisposable
    {
        lock (Gate) Detached.Add(server);
        return server;
    }

    /// <summary>The server was stopped the normal way.</summary>
    public static void Untrack(IAsyncDisposable server)
    {
        lock (Gate) Detached.Remove(server);
    }

    /// <summary>A signal arrived: the run's failures from here on are the cleanup's doing.</summary>
    public static bool Interrupted { get; private set; }

    private static void OnSignal(PosixSignalContext context)
    {
        // The harness exits by itself once everything is stopped.
        context.Cancel = true;
        Interrupted = true;
        List<IAsyncDisposable> detached;
        lock (Gate)
        {
            detached = [.. Enumerable.Reverse(Detached)];
            Detached.Clear();
        }
        var children = ChildProcessIds(Environment.ProcessId);
        Console.Error.WriteLine($"{context.Signal}: stopping {children.Count} child process(es) and {detached.Count} detached server(s)");
        foreach (var pid in children) KillTree(pid);
        foreach (var server in detached)
        {
            try
            {
                if (!server.DisposeAsync().AsTask().Wait(CleanupBudget))
                    Console.Error.WriteLine($"  {server.GetType().Name} did not stop within {CleanupBudget.TotalSeconds} s");
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"  stopping {server.GetType().Name} failed: {e.GetBaseException().Message}");
            }
        }
        Environment.Exit(128 + SignalNumber(context.Signal));
    }

    private static void KillTree(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // It ended by itself meanwhile.
        }
    }

    private static List<int> ChildProcessIds(int parent)
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid ...", where comm may hold spaces and parentheses.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == parent) children.Add(pid);
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }
        return children;
    }

    private sealed class Registrations(PosixSignalRegistration[] all) : IDisposable
    {
        public void Dispose()
        {
            foreach (var registration in all) registration.Dispose();
        }
    }

    private static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        _ => 15,
    };
}
