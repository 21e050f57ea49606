using System.Collections.Concurrent;
using Akka.Actor;

namespace Natter.Actors.Presence;

/// <summary>
/// One instance of each cluster member's address in this process, shared by every connection that remembers which
/// node its presence entity lives on (an edge holds many connections and few nodes). A member's address is
/// forgotten when it is removed (<see cref="MemberDepartures"/>), so nodes that come and go under new addresses
/// (pods of a Deployment) do not pile up for the edge's lifetime.
/// </summary>
public static class NodeAddresses
{
    private static readonly ConcurrentDictionary<Address, Address> Known = new();

    public static Address Intern(Address address) => Known.GetOrAdd(address, static a => a);

    public static void Forget(Address address) => Known.TryRemove(address, out _);

    public static bool Contains(Address address) => Known.ContainsKey(address);
}
