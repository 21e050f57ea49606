using System.Collections.Concurrent;
using Akka.Actor;

namespace Natter.Actors.Presence;

/// <summary>
/// One instance of each cluster member's address in this process, shared by every connection that remembers which
/// node its presence entity lives on (an edge holds many connections and few nodes). When a member is removed the
/// table keeps only the cluster's remaining members (<see cref="MemberDepartures"/>), so nodes that come and go under
/// new addresses (pods of a Deployment) do not pile up for the edge's lifetime.
/// </summary>
public static class NodeAddresses
{
    private static readonly ConcurrentDictionary<Address, Address> Known = new();

    public static Address Intern(Address address) => Known.GetOrAdd(address, static a => a);

    /// <summary>
    /// Keeps only these addresses. Dropping an entry costs nothing but sharing (equality is by value), and pruning to
    /// the members still in the cluster also drops an address that a late registration from a departed node interned
    /// again after its removal.
    /// </summary>
    public static void RetainOnly(IReadOnlySet<Address> members)
    {
        foreach (var address in Known.Keys)
            if (!members.Contains(address)) Known.TryRemove(address, out _);
    }

    public static bool Contains(Address address) => Known.ContainsKey(address);
}
