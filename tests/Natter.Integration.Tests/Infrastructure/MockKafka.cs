using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Natter.Integration.Tests.Infrastructure;

/// <summary>
/// librdkafka's built-in mock Kafka cluster (it speaks the real protocol on 127.0.0.1), owned by a producer
/// that must stay alive while the cluster is used. Its broker can be taken down and brought back, through
/// librdkafka's mock API, to test an outage.
/// </summary>
public sealed class MockKafka : IDisposable
{
    private const int BrokerId = 1;
    private readonly IProducer<Null, Null> _owner;
    private readonly IntPtr _cluster;

    static MockKafka()
    {
        // The mock API is called on the very librdkafka that Confluent.Kafka loaded. On Debian the default
        // build lacks its libsasl2.so.3, and Confluent.Kafka falls back to its centos8 build: do the same.
        NativeLibrary.SetDllImportResolver(typeof(MockKafka).Assembly, (name, assembly, path) =>
        {
            if (name != "librdkafka") return IntPtr.Zero;
            var native = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
            foreach (var candidate in new[] { "librdkafka.so", "centos8-librdkafka.so" })
                if (NativeLibrary.TryLoad(Path.Combine(native, candidate), out var handle)) return handle;
            return IntPtr.Zero;
        });
    }

    public MockKafka()
    {
        _owner = new ProducerBuilder<Null, Null>(new ProducerConfig { BootstrapServers = "", }.Also(c => c.Set("test.mock.num.brokers", "1"))).Build();
        _cluster = rd_kafka_handle_mock_cluster(NativeHandle(_owner.Handle));
        if (_cluster == IntPtr.Zero) throw new InvalidOperationException("librdkafka made no mock cluster");
        BootstrapServers = Marshal.PtrToStringAnsi(rd_kafka_mock_cluster_bootstraps(_cluster))!;
    }

    public string BootstrapServers { get; }

    /// <summary>The broker stops answering: connections to it fail until <see cref="BrokerUp"/>.</summary>
    public void BrokerDown() => Check(rd_kafka_mock_broker_set_down(_cluster, BrokerId));

    public void BrokerUp() => Check(rd_kafka_mock_broker_set_up(_cluster, BrokerId));

    /// <summary>Every record of the topic so far (read from the start by a throwaway consumer).</summary>
    /// <remarks>Consume blocks for seconds: on a thread of its own, so the servers in this process keep their pool threads.</remarks>
    public Task<List<ConsumeResult<string, byte[]>>> ReadAllAsync(string topic, TimeSpan quiet) =>
        Task.Factory.StartNew(() => ReadAll(topic, quiet), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private List<ConsumeResult<string, byte[]>> ReadAll(string topic, TimeSpan quiet)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = $"test-reader-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var records = new List<ConsumeResult<string, byte[]>>();
        var lastRecordAt = DateTime.UtcNow;
        // Group assignment takes a moment; then read until nothing came for a while.
        while (DateTime.UtcNow - lastRecordAt < quiet + TimeSpan.FromSeconds(records.Count == 0 ? 5 : 0))
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result?.Message is null) continue;
            records.Add(result);
            lastRecordAt = DateTime.UtcNow;
        }
        consumer.Close();
        return records;
    }

    public void Dispose() => _owner.Dispose();

    private static IntPtr NativeHandle(Handle handle)
    {
        const BindingFlags flags = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
        var member = (object?)typeof(Handle).GetField("LibrdkafkaHandle", flags)?.GetValue(handle)
                     ?? typeof(Handle).GetProperty("LibrdkafkaHandle", flags)?.GetValue(handle);
        return member is SafeHandle safe ? safe.DangerousGetHandle() : throw new InvalidOperationException("no librdkafka handle");
    }

    private static void Check(int error)
    {
        if (error != 0) throw new InvalidOperationException($"librdkafka mock call failed: {error}");
    }

    [DllImport("librdkafka")] private static extern IntPtr rd_kafka_handle_mock_cluster(IntPtr rk);
    [DllImport("librdkafka")] private static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);
    [DllImport("librdkafka")] private static extern int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);
    [DllImport("librdkafka")] private static extern int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);
}

internal static class ConfigExtensions
{
    public static T Also<T>(this T value, Action<T> change)
    {
        change(value);
        return value;
    }
}
