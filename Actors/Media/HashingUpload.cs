using System.Security.Cryptography;
using Akka;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.IO;
using Akka.Streams.Stage;

namespace Natter.Actors.Media;

/// <summary>What an upload stream wrote: its size and SHA-256 (lowercase hex).</summary>
public sealed record UploadDigest(long Size, string Sha256);

/// <summary>Thrown inside the stream when an upload passes its byte limit.</summary>
public sealed class UploadTooLargeException(long limit) : Exception($"the upload is larger than {limit} bytes")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// The Akka.Streams stages of an upload: bytes flow from the request body to a file through a stage that
/// counts them (failing past the limit) and hashes them as they pass. Every stage only pulls when the next one
/// asks, so a slow disk slows the client instead of filling memory: memory stays constant whatever the size.
/// </summary>
public static class HashingUpload
{
    public const int ChunkBytes = 64 * 1024;

    /// <summary>
    /// Reads <paramref name="stream"/> asynchronously (Kestrel forbids blocking reads), one chunk per demand from
    /// downstream: nothing is read before a later stage asks for it.
    /// </summary>
    public static Source<ByteString, NotUsed> FromStream(Stream stream)
    {
        var buffer = new byte[ChunkBytes];
        return Source.UnfoldResourceAsync<ByteString, Stream>(
            () => Task.FromResult(stream),
            async s =>
            {
                var read = await s.ReadAsync(buffer.AsMemory());
                // CopyFrom copies (FromBytes would wrap), so the one buffer is reused for every chunk.
                return read == 0 ? Akka.Util.Option<ByteString>.None : new Akka.Util.Option<ByteString>(ByteString.CopyFrom(buffer, 0, read));
            },
            _ => Task.FromResult(Done.Instance));
    }

    /// <summary>Counts and hashes the bytes that pass; the materialized task completes with the digest when the stream does.</summary>
    public static Flow<ByteString, ByteString, Task<UploadDigest>> Flow(long maxBytes) =>
        Akka.Streams.Dsl.Flow.FromGraph(new DigestStage(maxBytes));

    /// <summary>Streams <paramref name="source"/> into <paramref name="path"/>; fails (file left for the caller to delete) past <paramref name="maxBytes"/>.</summary>
    public static async Task<UploadDigest> ToFileAsync(Source<ByteString, NotUsed> source, string path, long maxBytes, IMaterializer materializer,
        FileMode mode = FileMode.Create)
    {
        var (digest, io) = source
            .ViaMaterialized(Flow(maxBytes), Keep.Right)
            .ToMaterialized(FileIO.ToFile(new FileInfo(path), mode is FileMode.Append ? FileMode.Append : FileMode.Create), Keep.Both)
            .Run(materializer);
        var written = await io;
        if (!written.WasSuccessful) throw written.Error;
        return await digest;
    }

    private sealed class DigestStage(long maxBytes) : GraphStageWithMaterializedValue<FlowShape<ByteString, ByteString>, Task<UploadDigest>>
    {
        public long MaxBytes { get; } = maxBytes;
        private readonly Inlet<ByteString> _in = new("digest.in");
        private readonly Outlet<ByteString> _out = new("digest.out");

        public override FlowShape<ByteString, ByteString> Shape => new(_in, _out);

        public override ILogicAndMaterializedValue<Task<UploadDigest>> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
        {
            var done = new TaskCompletionSource<UploadDigest>(TaskCreationOptions.RunContinuationsAsynchronously);
            return new LogicAndMaterializedValue<Task<UploadDigest>>(new Logic(this, done), done.Task);
        }

        private sealed class Logic : InAndOutGraphStageLogic
        {
            private readonly DigestStage _stage;
            private readonly TaskCompletionSource<UploadDigest> _done;
            private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            private long _size;

            public Logic(DigestStage stage, TaskCompletionSource<UploadDigest> done) : base(stage.Shape)
            {
                _stage = stage;
                _done = done;
                SetHandler(stage._in, this);
                SetHandler(stage._out, this);
            }

            public override void OnPush()
            {
                var chunk = Grab(_stage._in);
                _size += chunk.Count;
                if (_size > _stage.MaxBytes)
                {
                    var error = new UploadTooLargeException(_stage.MaxBytes);
                    _done.TrySetException(error);
                    FailStage(error);
                    return;
                }
                _hash.AppendData(chunk.ToReadOnlySpan());
                Push(_stage._out, chunk);
            }

            public override void OnPull() => Pull(_stage._in);

            public override void OnUpstreamFinish()
            {
                _done.TrySetResult(new UploadDigest(_size, Convert.ToHexStringLower(_hash.GetHashAndReset())));
                CompleteStage();
            }

            public override void OnUpstreamFailure(Exception e)
            {
                _done.TrySetException(e);
                FailStage(e);
            }

            public override void OnDownstreamFinish(Exception cause)
            {
                _done.TrySetException(cause ?? new InvalidOperationException("the upload's sink stopped early"));
                base.OnDownstreamFinish(cause);
            }
        }
    }
}
