using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.TestKit.Xunit2;
using Natter.Actors.Hosting;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>The regions started by hand (for their allocation strategy) get the settings Akka.Hosting's options gave them.</summary>
public sealed class RegionSettingsSpecs() : TestKit(ClusterSharding.DefaultConfig().WithFallback(ClusterSingletonManager.DefaultConfig()), "region-settings")
{
    [Fact]
    public void Chats_and_users_passivate_after_two_idle_minutes_presence_never_and_none_remembers_entities()
    {
        var chats = ShardRegionHosting.SettingsFor(Sys, new RegionSettings(NatterRoles.Node, TimeSpan.FromMinutes(2)));
        var presence = ShardRegionHosting.SettingsFor(Sys, new RegionSettings(NatterRoles.Node, PassivateIdleAfter: null));

        Assert.Equal((NatterRoles.Node, false, TimeSpan.FromMinutes(2)), (chats.Role, chats.RememberEntities, chats.PassivateIdleEntityAfter));
        // "off" reads as zero, which sharding takes as never.
        Assert.Equal((NatterRoles.Node, false, TimeSpan.Zero), (presence.Role, presence.RememberEntities, presence.PassivateIdleEntityAfter));
    }
}
