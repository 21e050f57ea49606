using System.Diagnostics;
using System.Security.Cryptography;
using Natter.Bench.Report;
using Natter.Bench.Servers;
using Natter.Client;
using Natter.Testing;

namespace Natter.Bench.Scenarios;

/// <summary>
/// One large file (1 GiB; 64 MiB with --quick) uploaded to and downloaded from the edge, streamed both ways:
/// MB/s against a plain copy of the same file on the same disk, and how much the server's memory grows
/// during the upload (sampled every 50 ms).
/// </summary>
public static class MediaScenario
{
    public static async Task<BenchResult> RunAsync(BenchOptions options)
    {
        var size = options.Quick ? 64L * 1024 * 1024 : options.MediaBytes;
        var work = TempDirectory.Create("natter-media-bench");
        var source = Path.Combine(work, "source.bin");
        Console.Error.WriteLine($"writing {size / (1024 * 1024)} MiB of random bytes");
        var sha256 = await WriteRandomFileAsync(source, size);

        var copyWatch = Stopwatch.StartNew();
        File.Copy(source, Path.Combine(work, "copy.bin"));
        var copySeconds = copyWatch.Elapsed.TotalSeconds;
        File.Delete(Path.Combine(work, "copy.bin"));

        await using var server = await NatterServer.StartAsync(options);
        using var http = new HttpClient { BaseAddress = server.Process.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var api = new NatterHttpClient(http);
        var user = await server.Process.RegisterAsync();
        var pid = server.Process.ProcessId;
        var rssBefore = ProcessMemory.RssMb(pid);

        Console.Error.WriteLine("uploading");
        using var sampling = new CancellationTokenSource();
        var peak = SamplePeakRssAsync(pid, sampling.Token);
        var uploadWatch = Stopwatch.StartNew();
        StoredMedia stored;
        await using (var file = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous))
            stored = await api.UploadMediaAsync(user.AccessToken, file, "application/octet-stream", sha256);
        var uploadSeconds = uploadWatch.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        var rssPeak = await peak;

        Console.Error.WriteLine("downloading");
        var downloadWatch = Stopwatch.StartNew();
        string downloadedSha;
        using (var response = await api.DownloadMediaAsync(user.AccessToken, stored.Id))
        await using (var body = await response.Content.ReadAsStreamAsync())
        await using (var target = new FileStream(Path.Combine(work, "downloaded.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await target.WriteAsync(buffer.AsMemory(0, read));
            }
            downloadedSha = Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        var downloadSeconds = downloadWatch.Elapsed.TotalSeconds;
        Directory.Delete(work, recursive: true);

        var mb = size / (1024.0 * 1024.0);
        var intact = stored.Id == sha256 && downloadedSha == sha256;
        var natter = new NatterFigures(Math.Round(mb / uploadSeconds, 1), new LatencyMs(0, 0, 0), Math.Round(rssPeak, 1), 0,
            intact ? 0 : 1, 0, 0);
        var baseline = new BaselineFigures("file copy", Math.Round(mb / copySeconds, 1), null, 0);
        return new BenchResult("media", new Dictionary<string, object>
            {
                ["bytes"] = size, ["journal"] = options.Journal, ["quick"] = options.Quick,
            },
            natter, baseline, BenchResult.RatioOf(natter, baseline), MachineInfo.Current(), new Dictionary<string, object>
            {
                ["throughput_unit"] = "MB/s (MiB)",
                ["upload_mb_per_s"] = Math.Round(mb / uploadSeconds, 1),
                ["download_mb_per_s"] = Math.Round(mb / downloadSeconds, 1),
                ["download_ratio_to_copy"] = Math.Round(copySeconds / downloadSeconds, 3),
                ["server_rss_before_mb"] = Math.Round(rssBefore, 1),
                ["server_rss_peak_during_upload_mb"] = Math.Round(rssPeak, 1),
                ["server_rss_growth_mb"] = Math.Round(rssPeak - rssBefore, 1),
                ["sha256_verified"] = intact,
            });
    }

    private static async Task<string> WriteRandomFileAsync(string path, long size)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1024 * 1024);
        var buffer = new byte[1024 * 1024];
        for (long written = 0; written < size; written += buffer.Length)
        {
            var n = (int)Math.Min(buffer.Length, size - written);
            RandomNumberGenerator.Fill(buffer.AsSpan(0, n));
            hash.AppendData(buffer, 0, n);
            await file.WriteAsync(buffer.AsMemory(0, n));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static async Task<double> SamplePeakRssAsync(int pid, CancellationToken ct)
    {
        var peak = 0.0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                peak = Math.Max(peak, ProcessMemory.RssMb(pid));
                await Task.Delay(50, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The upload finished: sampling stops here by design.
        }
        return Math.Max(peak, ProcessMemory.RssMb(pid));
    }
}
