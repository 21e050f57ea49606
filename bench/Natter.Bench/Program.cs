using Natter.Bench.Load;
using Natter.Bench;
using Natter.Bench.Report;
using Natter.Bench.Scenarios;
using Natter.Bench.Servers;

// Natter's load harness: `dotnet run -c Release --project bench/Natter.Bench -- <scenario> [options] --json <file>`.
if (args is ["serve-echo", "--port", var port])
{
    await EchoServer.RunAsync(int.Parse(port));
    return 0;
}

if (args is [ConnectionHolder.Command, "--edge", var edge, "--tokens", var tokens])
    return await ConnectionHolder.RunAsync(new Uri(edge), tokens);

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

// Interrupted, the harness stops the servers it started before it exits.
using var signals = Termination.Install();
BenchResult result;
try
{
    result = options.Scenario switch
    {
        "echo" => await EchoScenario.RunAsync(options),
        "direct" => await DirectScenario.RunAsync(options),
        "offline" => await OfflineScenario.RunAsync(options),
        "group" => await GroupScenario.RunAsync(options),
        "media" => await MediaScenario.RunAsync(options),
        "connections" => await ConnectionsScenario.RunAsync(options),
        "recovery" => await RecoveryScenario.RunAsync(options),
        "failover" => await FailoverScenario.RunAsync(options),
        _ => throw new ArgumentException($"unknown scenario '{options.Scenario}' (echo, direct, offline, group, media, connections, recovery, failover)"),
    };
}
catch (Exception) when (Termination.Interrupted)
{
    // The servers were killed under the run; the signal's handler finishes stopping them and exits.
    await Task.Delay(Timeout.Infinite);
    return 1;
}

result.Print(Console.Out);
if (options.Json is { } file)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
    await File.WriteAllTextAsync(file, result.ToJson());
    Console.WriteLine($"wrote {file}");
}
// Correctness is never traded for speed: a run that lost, duplicated or reordered anything fails.
// A smoke run fails on any error too: a scenario whose connections or sends were refused measured nothing.
return result.Natter.Errors + result.Natter.Lost + result.Natter.Duplicates + result.Natter.OutOfOrder == 0 ? 0 : 1;
