using Natter.Bench.Load;
using Natter.Bench.Peers;
using Natter.Bench.Report;
using Natter.Bench.Servers;

namespace Natter.Bench.Scenarios;

/// <summary>
/// 1:1 messages between online devices: send, durable ack, delivery. Throughput at saturation (every
/// sender keeps --inflight unacknowledged), then latency with --latency-inflight messages in flight in
/// all. Baseline: raw Kestrel echo with the same clients, messages and windows.
/// </summary>
public static class DirectScenario
{
    public static async Task<BenchResult> RunAsync(BenchOptions options)
    {
        // Before the long Natter and echo phases: a missing ejabberd is installed or reported now.
        if (options.Peer == "ejabberd") await EjabberdServer.EnsureInstalledAsync();
        var pairs = Math.Max(1, options.Clients / 2);
        var perSender = Math.Max(1, options.Messages / pairs);

        // In turn, so that each server gets its share of the machine's fast and slow stretches (--repeat).
        var natterRuns = new List<NatterRun>();
        var echoRuns = new List<Run>();
        var defaultPeerRuns = new List<Run>();
        for (var round = 1; round <= options.Repeat; round++)
        {
            if (options.Repeat > 1) Console.Error.WriteLine($"round {round} of {options.Repeat}");
            natterRuns.Add(await NatterRunAsync(options, pairs, perSender));
            echoRuns.Add(await EchoRunAsync(options, options.Clients / 2 * 2, perSender));
            if (options.Peer == "ejabberd") defaultPeerRuns.Add(await EjabberdRunAsync(options, pairs, perSender, archive: false));
        }
        // Forty times slower than Natter: once is enough to place it, and repeating it would take an hour.
        var archivingPeerRun = options.Peer == "ejabberd" ? await EjabberdRunAsync(options, pairs, perSender, archive: true) : null;

        var natter = Medians.Of(natterRuns.Select(r => r.Figures).ToList());
        var baseline = Medians.Of(echoRuns.Select(r => r.Figures).ToList());
        var plotted = new List<Plots.Series>
        {
            MedianSeries($"natter ({options.Journal})", natterRuns.Select(r => r.Run).ToList()),
            MedianSeries("kestrel-echo", echoRuns),
        };
        var extra = new Dictionary<string, object>
        {
            ["server_cpu_ms_per_message"] = Math.Round(Medians.Of(natterRuns.Select(r => r.ServerCpuMsPerMessage)), 4),
            ["cpu"] = Medians.Of(natterRuns.Select(r => r.Run.Cpu!).ToList()),
        };
        if (options.Peer == "ejabberd")
        {
            var peers = new List<object>();
            foreach (var runs in new[] { defaultPeerRuns, [archivingPeerRun!] })
            {
                var peer = Medians.Of(runs.Select(r => r.Figures).ToList());
                plotted.Add(MedianSeries(peer.Name, runs));
                var figures = new Dictionary<string, object>
                {
                    ["name"] = peer.Name,
                    ["throughput_per_s"] = peer.ThroughputPerS,
                    ["latency_ms"] = peer.LatencyMs!,
                    ["rss_mb"] = peer.RssMb,
                    ["ratio"] = BenchResult.RatioOf(natter, peer),
                    // Messages never sent because the peer stopped delivering for XmppLoad.StallLimit.
                    ["unsent_messages"] = runs.Sum(r => r.Saturation.Errors + r.Latency.Errors),
                    ["cpu"] = Medians.Of(runs.Select(r => r.Cpu!).ToList()),
                };
                if (options.Repeat > 1) figures["runs"] = runs.Count;
                peers.Add(figures);
            }
            extra["peers"] = peers;
        }
        if (options.Repeat > 1) extra["rounds"] = Rounds(natterRuns, echoRuns, defaultPeerRuns);
        if (options.Json is { } json) extra["plots"] = string.Join(", ", Plots.Save(json, "direct", plotted).Select(Path.GetFileName));
        return new BenchResult("direct", Params(options, pairs, perSender), natter, baseline, BenchResult.RatioOf(natter, baseline),
            MachineInfo.Current(), extra);
    }

    /// <summary>One Natter run: a fresh server and data directory, warm-up, saturation, then the latency phase.</summary>
    private sealed record NatterRun(NatterFigures Figures, Run Run, double ServerCpuMsPerMessage);

    private static async Task<NatterRun> NatterRunAsync(BenchOptions options, int pairs, int perSender)
    {
        await using var server = await NatterServer.StartAsync(options);
        var population = await Population.PairsAsync(server.Process, pairs);
        var connections = await Population.ConnectAsync(server.Process, population.SelectMany(p => new[] { p.A, p.B }));
        foreach (var c in connections) await c.SyncAsync();
        var lanes = population.Select((p, i) => new SenderLane(connections[2 * i], p.ChatId, connections[2 * i + 1])).ToList();

        Console.Error.WriteLine($"natter: {pairs} senders x {perSender} messages, window {options.InFlight}");
        await Warmup.RunAsync("natter", Warmup.For(options),
            () => MessageLoad.RunAsync(lanes, Math.Max(1, perSender / 10), options.InFlight, options.BodyBytes));
        var saturationCpu = CpuSplit.Start(server.Process.ProcessId, server.DatabaseProcessId);
        var saturation = await MessageLoad.RunAsync(lanes, perSender, options.InFlight, options.BodyBytes);
        var saturationSplit = saturationCpu.PerMessage(saturation.Acked);
        var latencyCpu = CpuSplit.Start(server.Process.ProcessId, server.DatabaseProcessId);
        var latencyPhase = await LatencyPhase(lanes, options);
        var cpu = CpuFigures(saturationSplit, latencyCpu.PerMessage(latencyPhase.Acked), latencyPhase);
        var rss = Math.Round(ProcessMemory.RssMb(server.Process.ProcessId), 1);
        foreach (var c in connections) await c.DisposeAsync();
        var figures = new NatterFigures(Math.Round(saturation.Throughput), latencyPhase.Latency, rss,
            saturation.Errors, saturation.Lost, saturation.Duplicates, saturation.OutOfOrder);
        var asRun = new Run(new BaselineFigures("natter", figures.ThroughputPerS, figures.LatencyMs, rss), saturation, latencyPhase) { Cpu = cpu };
        return new NatterRun(figures, asRun, saturationSplit.ServerMs);
    }

    /// <summary>The plot of the run nearest the median throughput among a server's runs.</summary>
    private static Plots.Series MedianSeries(string name, IReadOnlyList<Run> runs)
    {
        var run = runs[Medians.IndexOfMedian(runs.Select(r => r.Figures.ThroughputPerS).ToList())];
        return new Plots.Series(name, run.Saturation, run.Latency);
    }

    private static List<DirectRound> Rounds(List<NatterRun> natter, List<Run> echo, List<Run> defaultPeer) =>
        natter.Select((n, i) => new DirectRound(i + 1,
            new RoundFigures("natter", n.Figures.ThroughputPerS, n.Figures.LatencyMs),
            new RoundFigures("kestrel-echo", echo[i].Figures.ThroughputPerS, echo[i].Figures.LatencyMs!),
            defaultPeer.Count > i ? new RoundFigures(defaultPeer[i].Figures.Name, defaultPeer[i].Figures.ThroughputPerS, defaultPeer[i].Figures.LatencyMs!) : null)).ToList();

    /// <summary>Latency at a fixed number of messages in flight across the whole system.</summary>
    private static Task<LoadOutcome> LatencyPhase(List<SenderLane> lanes, BenchOptions options)
    {
        var senders = lanes.Take(Math.Min(lanes.Count, options.LatencyInFlight)).ToList();
        var window = Math.Max(1, options.LatencyInFlight / senders.Count);
        var perSender = Math.Max(window * 20, options.Messages / 4 / senders.Count);
        Console.Error.WriteLine($"latency phase: {senders.Count} senders x window {window} = {senders.Count * window} in flight");
        return MessageLoad.RunAsync(senders, perSender, window, options.BodyBytes);
    }

    /// <summary>The same pairs, messages and windows against ejabberd over XMPP on WebSocket.</summary>
    public sealed record Run(BaselineFigures Figures, LoadOutcome Saturation, LoadOutcome Latency)
    {
        /// <summary>CPU per message of each phase, server and generator (<see cref="CpuFigures"/>), where measured.</summary>
        public Dictionary<string, object>? Cpu { get; init; }
    }

    /// <summary>
    /// Where each phase's CPU went, in ms per message, and the latency phase's own throughput: with a fixed number
    /// in flight, that throughput times the mean latency is the number in flight, so latency follows CPU per message.
    /// </summary>
    private static Dictionary<string, object> CpuFigures(CpuSplit.Share saturation, CpuSplit.Share latency, LoadOutcome latencyPhase)
    {
        var figures = new Dictionary<string, object>
        {
            ["saturation_server_ms_per_message"] = saturation.ServerMs,
            ["saturation_generator_ms_per_message"] = saturation.GeneratorMs,
            ["latency_phase_server_ms_per_message"] = latency.ServerMs,
            ["latency_phase_generator_ms_per_message"] = latency.GeneratorMs,
            ["latency_phase_throughput_per_s"] = Math.Round(latencyPhase.Throughput),
        };
        // PostgreSQL's processes: part of the journal's cost that the server's own figure leaves out.
        if (saturation.DatabaseMs is { } db) figures["saturation_database_ms_per_message"] = db;
        if (latency.DatabaseMs is { } latencyDb) figures["latency_phase_database_ms_per_message"] = latencyDb;
        return figures;
    }

    private static async Task<Run> EjabberdRunAsync(BenchOptions options, int pairs, int perSender, bool archive)
    {
        await using var server = await EjabberdServer.StartAsync(archive);
        Console.Error.WriteLine($"{server.Name}: {pairs} senders x {perSender} messages, window {options.InFlight}");
        var clients = await XmppLoad.ConnectPairsAsync(server, pairs, new LocalAddresses(4));
        await Warmup.RunAsync(server.Name, Warmup.For(options), () => XmppLoad.RunAsync(clients, Math.Max(1, perSender / 10), options.InFlight));
        var saturationCpu = CpuSplit.Start(server.VmProcessId);
        var saturation = await XmppLoad.RunAsync(clients, perSender, options.InFlight);
        var saturationSplit = saturationCpu.PerMessage(saturation.Acked);
        var senders = clients.Take(Math.Min(clients.Count, options.LatencyInFlight)).ToList();
        var window = Math.Max(1, options.LatencyInFlight / senders.Count);
        var latencyCpu = CpuSplit.Start(server.VmProcessId);
        var latency = await XmppLoad.RunAsync(senders, Math.Max(window * 20, options.Messages / 4 / senders.Count), window);
        var cpu = CpuFigures(saturationSplit, latencyCpu.PerMessage(latency.Acked), latency);
        var rss = server.RssMb();
        foreach (var pair in clients)
        {
            await pair.Sender.DisposeAsync();
            await pair.Recipient.DisposeAsync();
        }
        if (saturation.Lost > 0) Console.Error.WriteLine($"{server.Name}: {saturation.Lost} messages not delivered");
        return new Run(new BaselineFigures(server.Name, Math.Round(saturation.Throughput), latency.Latency, Math.Round(rss, 1)), saturation, latency)
        {
            Cpu = cpu,
        };
    }

    public static async Task<BaselineFigures> EchoBaseline(BenchOptions options, int clients, int perClient) =>
        (await EchoRunAsync(options, clients, perClient)).Figures;

    public static async Task<Run> EchoRunAsync(BenchOptions options, int clients, int perClient)
    {
        await using var echo = await EchoProcess.StartAsync();
        var sockets = await EchoLoad.ConnectAsync(echo.BaseAddress, clients, new LocalAddresses(4));
        Console.Error.WriteLine($"kestrel-echo: {clients} clients x {perClient} frames, window {options.InFlight}");
        // Half the clients send in the Natter run; here all of them do, so each sends half as many.
        var perEcho = Math.Max(1, perClient / 2);
        await Warmup.RunAsync("kestrel-echo", Warmup.For(options), () => EchoLoad.RunAsync(sockets, Math.Max(1, perEcho / 10), options.InFlight, options.BodyBytes));
        var saturation = await EchoLoad.RunAsync(sockets, perEcho, options.InFlight, options.BodyBytes);
        var latencySockets = sockets.Take(Math.Min(sockets.Length, options.LatencyInFlight)).ToList();
        var window = Math.Max(1, options.LatencyInFlight / latencySockets.Count);
        var latency = await EchoLoad.RunAsync(latencySockets, Math.Max(window * 20, options.Messages / 4 / latencySockets.Count), window, options.BodyBytes);
        var rss = ProcessMemory.RssMb(echo.ProcessId);
        foreach (var s in sockets) s.Dispose();
        return new Run(new BaselineFigures("kestrel-echo", Math.Round(saturation.Throughput), latency.Latency, Math.Round(rss, 1)), saturation, latency);
    }

    private static Dictionary<string, object> Params(BenchOptions o, int pairs, int perSender)
    {
        var figures = new Dictionary<string, object>
        {
            ["clients"] = pairs * 2,
            ["senders"] = pairs,
            ["messages"] = pairs * perSender,
            ["inflight_per_sender"] = o.InFlight,
            ["latency_inflight"] = o.LatencyInFlight,
            ["body_bytes"] = o.BodyBytes,
            ["journal"] = o.Journal,
            ["peer"] = o.Peer ?? "none",
            ["quick"] = o.Quick,
        };
        // The run's figures are then medians over the rounds (extra.rounds has each one).
        if (o.Repeat > 1) figures["repeat"] = o.Repeat;
        return figures;
    }
}
