using System.Diagnostics;
using Natter.Bench.Load;
using Natter.Bench.Report;
using Natter.Bench.Servers;
using Natter.Client;
using Natter.Messages.Protocol;

namespace Natter.Bench.Scenarios;

/// <summary>
/// Fan-out to a group with every member online: one member sends, and a round ends when the last of the
/// other members has the message. Baseline in the same run, on the same server and connections: the same
/// sender delivers the same bytes to the same recipients as separate 1:1 messages, one per recipient. With --sealed,
/// every member publishes keys and each send carries an envelope for every recipient device, so the server checks
/// the send's devices against every member's (the envelopes are random bytes: the server never reads them).
/// </summary>
public static class GroupScenario
{
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(60);

    public static async Task<BenchResult> RunAsync(BenchOptions options)
    {
        var members = options.Members;
        var rounds = options.Rounds;
        // --edge-only: the shape production runs, the connections on an edge process and the entities on a node
        // (PostgreSQL), so every question the edge asks an entity crosses remoting.
        await using var embedded = options.EdgeOnly ? null : await NatterServer.StartAsync(options);
        await using var cluster = options.EdgeOnly
            ? await NatterCluster.StartAsync(1, edgeSettings: new Dictionary<string, string?> { ["Natter:Edge:RequestsPerSecond"] = "0" })
            : null;
        var server = embedded?.Process ?? cluster!.Edge;
        var journal = options.EdgeOnly ? "postgres" : options.Journal;
        int[] serverProcesses = embedded is not null ? [server.ProcessId] : [server.ProcessId, .. cluster!.NodeProcessIds];
        double ServerCpuSeconds() => serverProcesses.Sum(ProcessCpu.Seconds);
        Console.Error.WriteLine($"registering {members} members");
        var sessions = await Population.RegisterAsync(server, members);
        var sender = sessions[0];
        var recipients = sessions.Skip(1).ToList();
        var group = await server.Api.GroupAsync(sender.AccessToken, "create", name: "bench",
            userIds: recipients.Select(r => "+" + r.UserId).ToList());
        Console.Error.WriteLine($"opening {recipients.Count} direct chats for the baseline");
        var directChats = await Population.OpenChatsAsync(server, sender, recipients);
        IReadOnlyList<EnvelopeFrame>? groupEnvelopes = null;
        IReadOnlyList<EnvelopeFrame>?[] directEnvelopes = new IReadOnlyList<EnvelopeFrame>?[recipients.Count];
        if (options.Sealed)
        {
            Console.Error.WriteLine($"publishing keys for {members} members");
            await Population.PublishKeysAsync(server, sessions);
            // The size of the reference client's envelope once a session is set up.
            var envelope = new byte[121];
            Random.Shared.NextBytes(envelope);
            directEnvelopes = recipients.Select(r => (IReadOnlyList<EnvelopeFrame>?)[new EnvelopeFrame(r.UserId, r.DeviceId, envelope)]).ToArray();
            groupEnvelopes = directEnvelopes.SelectMany(e => e!).ToList();
        }

        var connections = await Population.ConnectAsync(server, sessions);
        await Task.WhenAll(connections.Select(c => c.SyncAsync()));
        var senderSocket = connections[0];
        var body = new byte[Math.Max(8, options.BodyBytes)];

        // Warm-up: a few rounds of each, not recorded.
        var warmGroup = new FanOutRounds();
        var warmDirect = new FanOutRounds();
        foreach (var c in connections.Skip(1)) { warmGroup.Watch(c); warmDirect.Watch(c); }
        for (var i = 0; i < 3; i++)
        {
            await GroupRoundAsync(warmGroup, senderSocket, group.GroupId, $"w{i}", recipients.Count, body, groupEnvelopes);
            await DirectRoundAsync(warmDirect, senderSocket, directChats, $"w{i}", body, directEnvelopes);
        }

        var fanOut = new FanOutRounds();
        var direct = new FanOutRounds();
        foreach (var c in connections.Skip(1)) { fanOut.Watch(c); direct.Watch(c); }
        var cpuBefore = ServerCpuSeconds();
        Console.Error.WriteLine($"group: {rounds} messages to {recipients.Count} online members");
        var (groupMissing, groupTime) = await RunRoundsAsync(rounds, i => GroupRoundAsync(fanOut, senderSocket, group.GroupId, $"g{i}", recipients.Count, body, groupEnvelopes));
        var groupCpuMs = (ServerCpuSeconds() - cpuBefore) * 1000;
        cpuBefore = ServerCpuSeconds();
        Console.Error.WriteLine($"baseline: {rounds} rounds of {recipients.Count} 1:1 messages");
        var (directMissing, directTime) = await RunRoundsAsync(rounds, i => DirectRoundAsync(direct, senderSocket, directChats, $"d{i}", body, directEnvelopes));
        var directCpuMs = (ServerCpuSeconds() - cpuBefore) * 1000;
        var rss = ProcessMemory.RssMb(server.ProcessId);
        foreach (var c in connections) await c.DisposeAsync();

        var natter = new NatterFigures(Math.Round(fanOut.Deliveries.Count / groupTime.TotalSeconds), fanOut.LastOfAll.Percentiles(),
            Math.Round(rss, 1), 0, groupMissing, fanOut.Duplicates, fanOut.OutOfOrder);
        var baseline = new BaselineFigures("1:1 sends of the same bytes", Math.Round(direct.Deliveries.Count / directTime.TotalSeconds),
            direct.LastOfAll.Percentiles(), Math.Round(rss, 1));
        var extra = new Dictionary<string, object>
        {
            ["what_latency_means"] = "per message: from send to its arrival at the last of the recipients",
            ["rounds_per_s"] = Math.Round(rounds / groupTime.TotalSeconds, 2),
            ["baseline_rounds_per_s"] = Math.Round(rounds / directTime.TotalSeconds, 2),
            // With --edge-only, the edge's and the node's together.
            ["server_cpu_ms_per_round"] = Math.Round(groupCpuMs / rounds, 3),
            ["baseline_server_cpu_ms_per_round"] = Math.Round(directCpuMs / rounds, 3),
            ["baseline_missing"] = directMissing,
            ["per_delivery_latency_ms"] = fanOut.Deliveries.Percentiles(),
        };
        if (options.Json is { } json)
            extra["plots"] = string.Join(", ", Plots.Save(json, "group", [
                new Plots.Series($"group of {members} ({(options.EdgeOnly ? "edge and node, " : "")}{journal})", Outcome(fanOut.Deliveries, groupTime), Outcome(fanOut.LastOfAll, groupTime)),
                new Plots.Series("1:1 sends", Outcome(direct.Deliveries, directTime), Outcome(direct.LastOfAll, directTime)),
            ]).Select(Path.GetFileName));
        return new BenchResult("group", new Dictionary<string, object>
            {
                ["members"] = members, ["rounds"] = rounds, ["body_bytes"] = body.Length, ["journal"] = journal,
                ["quick"] = options.Quick, ["sealed"] = options.Sealed, ["edge_only"] = options.EdgeOnly,
            },
            natter, baseline, BenchResult.RatioOf(natter, baseline), MachineInfo.Current(), extra);
    }

    private static LoadOutcome Outcome(LatencyRecorder recorder, TimeSpan elapsed) =>
        new(recorder.Count, 0, 0, 0, 0, elapsed, recorder.Percentiles()) { Recorder = recorder };

    private static async Task<(long Missing, TimeSpan Elapsed)> RunRoundsAsync(int rounds, Func<int, Task<int>> round)
    {
        var watch = Stopwatch.StartNew();
        long missing = 0;
        for (var i = 0; i < rounds; i++)
        {
            missing += await round(i);
            if ((i + 1) % Math.Max(1, rounds / 10) == 0) Console.Error.WriteLine($"  {i + 1}/{rounds} rounds, {watch.Elapsed.TotalSeconds:F1} s");
        }
        return (missing, watch.Elapsed);
    }

    /// <summary>One group message; every other member must receive it.</summary>
    private static Task<int> GroupRoundAsync(FanOutRounds rounds, NatterConnection sender, string groupId, string id, int recipients, byte[] body,
        IReadOnlyList<EnvelopeFrame>? envelopes) =>
        rounds.RunAsync([id], recipients, () => sender.SendPipelinedAsync(groupId, id, body, envelopes: envelopes), RoundTimeout);

    /// <summary>The same bytes as one 1:1 message per recipient, all sent at once.</summary>
    private static Task<int> DirectRoundAsync(FanOutRounds rounds, NatterConnection sender, IReadOnlyList<string> chats, string id, byte[] body,
        IReadOnlyList<EnvelopeFrame>?[] envelopes)
    {
        var ids = chats.Select((_, r) => $"{id}-{r}").ToList();
        // A connection holds at most 64 sends behind a sealed send's device check: sealed, at most 32 are in flight.
        var gate = new SemaphoreSlim(envelopes.Any(e => e is not null) ? 32 : chats.Count);
        return rounds.RunAsync(ids, chats.Count, () => Task.WhenAll(chats.Select(async (chat, r) =>
        {
            await gate.WaitAsync();
            try { return await sender.SendPipelinedAsync(chat, ids[r], body, envelopes: envelopes[r]); }
            finally { gate.Release(); }
        })), RoundTimeout);
    }
}
