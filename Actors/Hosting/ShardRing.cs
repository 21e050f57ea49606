using System.Security.Cryptography;
using System.Text;

namespace Natter.Actors.Hosting;

/// <summary>
/// Where each shard lives: consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, 2018). Every
/// node has <see cref="VirtualNodes"/> points on a ring of 32-bit hashes; a shard goes to the first point clockwise
/// from its own hash whose node holds fewer than ceil(<see cref="LoadFactor"/> × shards ÷ nodes) shards. Shards are
/// placed in the order of their hashes, so the answer depends only on the set of nodes and the set of shards: every
/// coordinator computes the same one, and a node joining or leaving moves about the shards it takes or gives up,
/// not most of them as hash-mod-N would. The bound keeps a node from the 1.1 to 1.5 times its share that plain
/// consistent hashing leaves the busiest one with only 100 shards (docs/architecture.md, "Sharding").
/// </summary>
public static class ShardRing
{
    public const int VirtualNodes = 100;
    public const double LoadFactor = 1.1;

    /// <summary>The node of every shard; nodes and shards are compared as strings (ordinal).</summary>
    public static IReadOnlyDictionary<string, string> Place(IEnumerable<string> nodes, IEnumerable<string> shards)
    {
        var nodeList = nodes.Distinct(StringComparer.Ordinal).ToList();
        var shardList = shards.Distinct(StringComparer.Ordinal).ToList();
        var placement = new Dictionary<string, string>(StringComparer.Ordinal);
        if (nodeList.Count == 0) return placement;

        var ring = nodeList
            .SelectMany(node => Enumerable.Range(0, VirtualNodes).Select(i => (Hash: Hash($"{node}#{i}"), Node: node)))
            .OrderBy(p => p.Hash).ThenBy(p => p.Node, StringComparer.Ordinal)
            .ToArray();
        var hashes = ring.Select(p => p.Hash).ToArray();
        var capacity = (int)Math.Ceiling(LoadFactor * shardList.Count / nodeList.Count);
        var load = nodeList.ToDictionary(n => n, _ => 0, StringComparer.Ordinal);

        foreach (var (shard, hash) in shardList.Select(s => (s, Hash(s))).OrderBy(s => s.Item2).ThenBy(s => s.s, StringComparer.Ordinal))
        {
            var start = Array.BinarySearch(hashes, hash);
            if (start < 0) start = ~start;
            for (var step = 0; ; step++)
            {
                var node = ring[(start + step) % ring.Length].Node;
                if (load[node] >= capacity) continue;
                placement[shard] = node;
                load[node]++;
                break;
            }
        }
        return placement;
    }

    /// <summary>The first four bytes of SHA-256, big-endian: the same on every machine and runtime, unlike string.GetHashCode.</summary>
    private static uint Hash(string value) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
