using System.Security.Cryptography;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.TestKit;
using Akka.TestKit.Xunit2;
using Natter.Actors.Media;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>The upload stage applies backpressure (nothing is read before it is asked for), hashes exactly, and enforces its limit.</summary>
public sealed class HashingUploadSpecs : TestKit
{
    private readonly IMaterializer _materializer;

    public HashingUploadSpecs() => _materializer = Sys.Materializer();

    // Akka.Streams' default input buffer: how many chunks may wait between two asynchronous stages.
    private const int InputBuffer = 16;

    [Fact]
    public void A_slow_consumer_holds_the_producer_back_after_at_most_one_buffer()
    {
        var (producer, consumer) = this.SourceProbe<ByteString>()
            .ViaMaterialized(HashingUpload.Flow(long.MaxValue), Keep.Left)
            .ToMaterialized(this.SinkProbe<ByteString>(), Keep.Both)
            .Run(_materializer);

        consumer.Request(1);
        var asked = producer.ExpectRequest();
        Assert.InRange(asked, 1, InputBuffer);
        for (var i = 0; i < asked; i++) producer.SendNext(ByteString.FromBytes(new byte[64 * 1024]));
        consumer.ExpectNext();
        // The consumer asks for nothing more: beyond the one bounded buffer the producer is asked for nothing.
        producer.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        consumer.Request(asked + 10);
        Assert.InRange(producer.ExpectRequest(), 1, InputBuffer);
    }

    [Fact]
    public async Task A_request_body_is_read_only_as_fast_as_the_sink_takes_it()
    {
        var body = new CountingStream(new byte[10 * 1024 * 1024]);
        var consumer = HashingUpload.FromStream(body)
            .Via(HashingUpload.Flow(long.MaxValue))
            .RunWith(this.SinkProbe<ByteString>(), _materializer);

        consumer.Request(2);
        consumer.ExpectNext();
        consumer.ExpectNext();
        await Task.Delay(300);
        // 160 chunks are available; only what was asked for plus at most one buffer was read.
        Assert.InRange(body.Reads, 2, 2 + InputBuffer);
        consumer.Cancel();
    }

    [Fact]
    public async Task The_digest_is_the_SHA256_of_exactly_the_bytes_that_passed()
    {
        var bytes = RandomNumberGenerator.GetBytes(1_000_003);
        var digest = await HashingUpload.FromStream(new MemoryStream(bytes))
            .ViaMaterialized(HashingUpload.Flow(long.MaxValue), Keep.Right)
            .To(Sink.Ignore<ByteString>())
            .Run(_materializer);

        Assert.Equal((bytes.LongLength, Convert.ToHexStringLower(SHA256.HashData(bytes))), (digest.Size, digest.Sha256));
    }

    [Fact]
    public async Task Passing_the_limit_fails_the_stream()
    {
        var digest = HashingUpload.FromStream(new MemoryStream(new byte[200_000]))
            .ViaMaterialized(HashingUpload.Flow(100_000), Keep.Right)
            .To(Sink.Ignore<ByteString>())
            .Run(_materializer);

        await Assert.ThrowsAsync<UploadTooLargeException>(() => digest);
    }

    private sealed class CountingStream(byte[] data) : MemoryStream(data)
    {
        public int Reads;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            Interlocked.Increment(ref Reads);
            return base.ReadAsync(buffer, ct);
        }
    }
}
