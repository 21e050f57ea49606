using Akka.TestKit.Xunit2;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Protocol;
using Natter.Messages.Users;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>
/// The device check behind every upgrade and REST call: a removed device is `unauthorized`, but a cluster that does
/// not answer is `unavailable` (HTTP 503), never a 401 that would make a client throw its credentials away.
/// </summary>
public sealed class DeviceRefusalSpecs : TestKit
{
    private static readonly UserId Alice = new("15550000001");

    private (UserGateway Gateway, Akka.TestKit.TestProbe Users) GatewayWithProbe(TimeSpan timeout)
    {
        var users = CreateTestProbe();
        return (new UserGateway(users.Ref, CreateTestProbe().Ref, timeout), users);
    }

    [Fact]
    public async Task A_device_on_its_account_is_admitted()
    {
        var (gateway, users) = GatewayWithProbe(TimeSpan.FromSeconds(10));
        var check = gateway.DeviceRefusalAsync(Alice, new DeviceId(2));
        users.ExpectMsg<UserQueries.GetAccount>();
        users.Reply(new UserReplies.Account(Alice, true, [new DeviceInfo(new DeviceId(1), "phone", DateTimeOffset.UtcNow),
            new DeviceInfo(new DeviceId(2), "laptop", DateTimeOffset.UtcNow)]));
        Assert.Null(await check);
    }

    [Fact]
    public async Task A_device_no_longer_on_its_account_is_unauthorized()
    {
        var (gateway, users) = GatewayWithProbe(TimeSpan.FromSeconds(10));
        var check = gateway.DeviceRefusalAsync(Alice, new DeviceId(2));
        users.ExpectMsg<UserQueries.GetAccount>();
        users.Reply(new UserReplies.Account(Alice, true, [new DeviceInfo(new DeviceId(1), "phone", DateTimeOffset.UtcNow)]));
        Assert.Equal(ErrorCodes.Unauthorized, (await check)?.Code);
    }

    [Fact]
    public async Task A_cluster_that_does_not_answer_is_unavailable_not_unauthorized()
    {
        var (gateway, users) = GatewayWithProbe(TimeSpan.FromMilliseconds(300));
        var check = gateway.DeviceRefusalAsync(Alice, new DeviceId(1));
        users.ExpectMsg<UserQueries.GetAccount>();
        Assert.Equal(ErrorCodes.Unavailable, (await check)?.Code);
    }
}
