using Natter.Bench.Servers;
using Natter.Testing;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;

namespace Natter.Bench.Peers;

/// <summary>
/// Debian's ejabberd on 127.0.0.1 with a config the harness writes (docs/benchmarks.md shows it), run in
/// the foreground as the ejabberd user and killed by PID afterwards, with the epmd it started.
/// Two configurations: its default durability (offline store only) and every message archived
/// (mod_mam on SQLite), Natter's durability class.
/// </summary>
public sealed class EjabberdServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private readonly HashSet<int> _epmdBefore;

    private EjabberdServer(Process process, string directory, int port, bool archive, HashSet<int> epmdBefore)
    {
        _process = process;
        _directory = directory;
        _epmdBefore = epmdBefore;
        Port = port;
        Archive = archive;
    }

    public int Port { get; }
    public bool Archive { get; }
    public Uri WebSocketUri => new($"ws://127.0.0.1:{Port}/ws");
    public string Name => Archive ? "ejabberd-mam-sqlite" : "ejabberd-default";

    public static async Task<EjabberdServer> StartAsync(bool archive)
    {
        await EnsureInstalledAsync();
        var directory = Path.Combine(Path.GetTempPath(), "natter-bench-ejabberd", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(directory, "spool"));
        Directory.CreateDirectory(Path.Combine(directory, "logs"));
        var port = FreePorts.Next();
        var database = Path.Combine(directory, "ejabberd.db");
        await File.WriteAllTextAsync(Path.Combine(directory, "ejabberd.yml"), Config(port, archive ? database : null));
        // Our own ctl config: Debian's sets EJABBERD_CONFIG_PATH itself, overriding --config.
        // A node name of its own: a system ejabberd (ejabberd@localhost) may be running beside it.
        await File.WriteAllTextAsync(Path.Combine(directory, "ejabberdctl.cfg"),
            "ERL_OPTIONS=\"-env ERL_CRASH_DUMP_BYTES 0\"\nINET_DIST_INTERFACE=127.0.0.1\nERL_EPMD_ADDRESS=127.0.0.1\n"
            + $"ERLANG_NODE=natter-bench-{Path.GetFileName(directory)[..8]}@localhost\n");
        if (archive) CreateSchema(database);
        await Run("chown", $"-R ejabberd:ejabberd {directory}");

        var start = new ProcessStartInfo("/usr/sbin/ejabberdctl",
            $"--config {directory}/ejabberd.yml --ctl-config {directory}/ejabberdctl.cfg --spool {directory}/spool --logs {directory}/logs foreground-quiet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        start.Environment["ERL_EPMD_ADDRESS"] = "127.0.0.1";
        var epmdBefore = EpmdProcesses();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = Termination.Track(new EjabberdServer(process, directory, port, archive, epmdBefore));
        await server.WaitUntilListeningAsync();
        return server;
    }

    /// <summary>The config of docs/benchmarks.md: warning-level logs, no shaper, open in-band registration on loopback.</summary>
    public static string Config(int port, string? archiveDatabase) => $$"""
        loglevel: warning
        hosts:
          - localhost
        auth_password_format: plain
        registration_timeout: infinity
        listen:
          -
            port: {{port}}
            ip: "127.0.0.1"
            module: ejabberd_http
            request_handlers:
              /ws: ejabberd_http_ws
        acl:
          local:
            user_regexp: ""
          loopback:
            ip:
              - 127.0.0.0/8
        access_rules:
          local:
            allow: local
          c2s:
            allow: all
          register:
            allow: all
          trusted_network:
            allow: loopback
        shaper_rules:
          max_user_sessions: 10
        {{(archiveDatabase is null ? "" : $"""
        sql_type: sqlite
        sql_database: "{archiveDatabase}"
        new_sql_schema: true
        """)}}
        modules:
          mod_register:
            ip_access: trusted_network
            access: register
          mod_offline:
            access_max_user_messages: 1000000
          mod_stream_mgmt: {}
          mod_disco: {}
        {{(archiveDatabase is null ? "" : """
          mod_mam:
            db_type: sql
            default: always
            assume_mam_usage: true
        """)}}
        """;

    private static void CreateSchema(string database)
    {
        using var connection = new SqliteConnection($"Data Source={database}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = File.ReadAllText("/usr/share/ejabberd/sql/lite.new.sql");
        command.ExecuteNonQuery();
    }

    private async Task WaitUntilListeningAsync()
    {
        for (var i = 0; i < 600; i++)
        {
            if (_process.HasExited) throw new InvalidOperationException($"ejabberd exited with {_process.ExitCode}; see {_directory}/logs");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"ejabberd did not listen on {Port}; see {_directory}/logs");
    }

    /// <summary>RSS of the Erlang VM (beam.smp) serving this instance.</summary>
    public double RssMb()
    {
        foreach (var pid in Processes(cmdline => cmdline.Contains("beam") && cmdline.Contains(_directory)))
        {
            try
            {
                return Servers.ProcessMemory.RssMb(pid);
            }
            catch (IOException) { /* the process ended while we looked */ }
        }
        return 0;
    }

    /// <summary>The Erlang VM (beam.smp) serving this instance.</summary>
    public int VmProcessId =>
        Processes(cmdline => cmdline.Contains("beam") && cmdline.Contains(_directory)).FirstOrDefault() is var pid and > 0
            ? pid
            : throw new InvalidOperationException($"ejabberd's VM is not running; see {_directory}/logs");

    public async ValueTask DisposeAsync()
    {
        Termination.Untrack(this);
        // Kill the VM we started (found by its config path), then an epmd only if it was not running before.
        var ours = Processes(cmdline => cmdline.Contains(_directory))
            .Concat(EpmdProcesses().Where(pid => !_epmdBefore.Contains(pid)));
        foreach (var pid in ours)
        {
            try
            {
                Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
        }
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private static IEnumerable<int> Processes(Func<string, bool> commandLineMatches)
    {
        foreach (var name in Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsDigit)))
        {
            string cmdline;
            try
            {
                cmdline = File.ReadAllText($"/proc/{name}/cmdline");
            }
            catch (IOException)
            {
                continue; // the process ended while we looked
            }
            if (commandLineMatches(cmdline)) yield return int.Parse(name!);
        }
    }

    private static HashSet<int> EpmdProcesses() =>
        Processes(cmdline => cmdline.StartsWith("/usr/lib/erlang/erts") && cmdline.Contains("epmd")).ToHashSet();

    private const string Packages = "ejabberd erlang-p1-sqlite3";
    private const string PolicyRcD = "/usr/sbin/policy-rc.d";

    /// <summary>
    /// Installs Debian's packages when they are missing and the harness runs as root. A policy-rc.d that
    /// refuses every start (the Debian way, honoured by invoke-rc.d and deb-systemd-invoke alike) keeps the
    /// package scripts from starting a system ejabberd during the install; an existing one is left alone.
    /// </summary>
    public static async Task EnsureInstalledAsync()
    {
        if (File.Exists("/usr/sbin/ejabberdctl") && HasSqliteDriver()) return;
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException($"ejabberd is not installed: sudo apt-get install -y {Packages}");
        Console.Error.WriteLine($"installing {Packages} (apt-get)");
        var ownPolicy = !File.Exists(PolicyRcD);
        if (ownPolicy)
        {
            await File.WriteAllTextAsync(PolicyRcD, "#!/bin/sh\n# natter-bench: no service starts while it installs ejabberd\nexit 101\n");
            File.SetUnixFileMode(PolicyRcD, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                                            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        try
        {
            foreach (var arguments in (string[])["update -qq", $"install -y -qq --no-install-recommends {Packages}"])
            {
                var apt = new ProcessStartInfo("apt-get", arguments) { RedirectStandardOutput = true };
                apt.Environment["DEBIAN_FRONTEND"] = "noninteractive";
                using var process = Process.Start(apt)!;
                // apt's progress goes to stderr with the harness's own; stdout is for results.
                process.OutputDataReceived += (_, line) => { if (line.Data is not null) Console.Error.WriteLine(line.Data); };
                process.BeginOutputReadLine();
                await process.WaitForExitAsync();
                if (process.ExitCode != 0) throw new InvalidOperationException($"apt-get {arguments} failed ({process.ExitCode})");
            }
        }
        finally
        {
            if (ownPolicy) File.Delete(PolicyRcD);
        }
    }

    private static bool HasSqliteDriver() =>
        Directory.Exists("/usr/lib/erlang/lib") && Directory.EnumerateDirectories("/usr/lib/erlang/lib", "p1_sqlite3*").Any();

    private static async Task Run(string program, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
        await process.WaitForExitAsync();
    }
}
