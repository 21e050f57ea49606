using Natter.Client;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// Group requests that must be refused, over REST and the socket, each with its documented code; a member
/// connected throughout keeps receiving the group's messages. Groups here hold at most 3 members.
/// </summary>
public sealed class GroupBadInputSpecs : IAsyncLifetime
{
    private InProcessServer _server = null!;
    private DeviceSession _admin = null!;
    private DeviceSession _member = null!;
    private DeviceSession _outsider = null!;
    private string _groupId = null!;
    private NatterConnection _bystander = null!;

    public async Task InitializeAsync()
    {
        _server = await InProcessServer.StartAsync(Journal.Sqlite(),
            overrides: new Dictionary<string, string?> { ["Natter:Chat:MaxGroupMembers"] = "3" });
        _admin = await _server.RegisterAsync();
        _member = await _server.RegisterAsync();
        _outsider = await _server.RegisterAsync();
        _groupId = (await _server.Api.GroupAsync(_admin.AccessToken, "create", name: "Small", userId: "+" + _member.UserId)).GroupId;
        _bystander = await _server.ConnectAsync(_member);
        await _bystander.SyncAsync();
    }

    public async Task DisposeAsync()
    {
        var ack = await _server.Api.PostGroupMessageAsync(_admin.AccessToken, _groupId, $"after-{Guid.NewGuid():N}", [1]);
        await _bystander.Received.WaitForCountAsync(_groupId, (int)ack.Seq, TimeSpan.FromSeconds(20));
        await _bystander.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task<NatterApiException> RefusedAsync(Func<Task> call) => await Assert.ThrowsAsync<NatterApiException>(call);

    [Fact]
    public async Task A_non_admin_can_neither_add_nor_remove()
    {
        var add = await RefusedAsync(() => _server.Api.GroupAsync(_member.AccessToken, "add", _groupId, userId: "+" + _outsider.UserId));
        Assert.Equal((ErrorCodes.NotAdmin, (int?)403), (add.Code, add.HttpStatus));
        // The case study's form: joining on someone else's behalf is an admin's add.
        var join = await RefusedAsync(() => _server.Api.GroupAsync(_member.AccessToken, "join", _groupId, userId: "+" + _outsider.UserId));
        Assert.Equal(ErrorCodes.NotAdmin, join.Code);
        // Another device of the member: a second socket of the bystander's own device would replace it.
        await using var socket = await _server.ConnectAsync(await _server.LinkDeviceAsync(_member, "laptop"));
        var remove = await RefusedAsync(() => socket.GroupAsync("remove", _groupId, ["+" + _admin.UserId]));
        Assert.Equal(ErrorCodes.NotAdmin, remove.Code);
    }

    [Fact]
    public async Task Joining_a_full_group_is_refused()
    {
        var code = (await _server.Api.GroupAsync(_admin.AccessToken, "reset_invite", _groupId)).InviteCode!;
        Assert.True((await _server.Api.GroupAsync(_outsider.AccessToken, "join", _groupId, inviteCode: code)).Ok);
        var fourth = await _server.RegisterAsync();
        var full = await RefusedAsync(() => _server.Api.GroupAsync(fourth.AccessToken, "join", _groupId, inviteCode: code));
        Assert.Equal((ErrorCodes.GroupFull, (int?)409), (full.Code, full.HttpStatus));
        var add = await RefusedAsync(() => _server.Api.GroupAsync(_admin.AccessToken, "add", _groupId, userId: "+" + fourth.UserId));
        Assert.Equal(ErrorCodes.GroupFull, add.Code);
    }

    [Fact]
    public async Task A_forged_invite_code_is_refused()
    {
        await _server.Api.GroupAsync(_admin.AccessToken, "reset_invite", _groupId);
        var forged = await RefusedAsync(() => _server.Api.GroupAsync(_outsider.AccessToken, "join", _groupId, inviteCode: "AAAAAAAAAAAAAAAAAAAAAA"));
        Assert.Equal((ErrorCodes.InvalidInvite, (int?)403), (forged.Code, forged.HttpStatus));
        var none = await RefusedAsync(() => _server.Api.GroupAsync(_outsider.AccessToken, "join", _groupId));
        Assert.Equal(ErrorCodes.MissingField, none.Code);
    }

    [Fact]
    public async Task Leaving_a_group_you_are_not_in_is_refused()
    {
        var error = await RefusedAsync(() => _server.Api.GroupAsync(_outsider.AccessToken, "leave", _groupId));
        Assert.Equal((ErrorCodes.NotMember, (int?)403), (error.Code, error.HttpStatus));
    }

    [Fact]
    public async Task An_outsider_can_neither_read_nor_write_nor_ask_for_receipts()
    {
        var read = await RefusedAsync(() => _server.Api.GetGroupMessagesAsync(_outsider.AccessToken, _groupId));
        Assert.Equal(ErrorCodes.NotMember, read.Code);
        var write = await RefusedAsync(() => _server.Api.PostGroupMessageAsync(_outsider.AccessToken, _groupId, "x", [1]));
        Assert.Equal(ErrorCodes.NotMember, write.Code);
        var info = await RefusedAsync(() => _server.Api.GetMessageInfoAsync(_outsider.AccessToken, _groupId, 1));
        Assert.Equal(ErrorCodes.NotMember, info.Code);
    }

    [Theory]
    [InlineData("explode", "g.00000000000000000000", ErrorCodes.InvalidField)]
    [InlineData("leave", "g.not-a-group", ErrorCodes.ChatNotFound)]
    [InlineData("leave", "g.00000000000000000000", ErrorCodes.ChatNotFound)]
    [InlineData("rename", null, ErrorCodes.MissingField)]
    public async Task Unknown_actions_and_groups_get_their_codes(string action, string? groupId, string code)
    {
        var error = await RefusedAsync(() => _server.Api.GroupAsync(_admin.AccessToken, action, groupId, name: "x"));
        Assert.Equal(code, error.Code);
    }

    [Fact]
    public async Task A_direct_chat_is_not_a_group_and_an_action_is_required()
    {
        var direct = (await _server.Api.OpenChatAsync(_admin.AccessToken, "+" + _member.UserId)).ChatId;
        var notGroup = await RefusedAsync(() => _server.Api.GroupAsync(_admin.AccessToken, "rename", direct, name: "x"));
        Assert.Equal((ErrorCodes.NotAGroup, (int?)400), (notGroup.Code, notGroup.HttpStatus));
        var noAction = await RefusedAsync(() => _server.Api.GroupAsync(_admin.AccessToken, null!, _groupId));
        Assert.Equal(ErrorCodes.MissingField, noAction.Code);
    }

    [Fact]
    public async Task Adding_someone_without_an_account_or_a_bad_number_is_refused()
    {
        var unknown = await RefusedAsync(() => _server.Api.GroupAsync(_admin.AccessToken, "add", _groupId, userId: "+19995550000"));
        Assert.Equal(ErrorCodes.UnknownUser, unknown.Code);
        var bad = await RefusedAsync(() => _server.Api.GroupAsync(_admin.AccessToken, "add", _groupId, userId: "not a phone"));
        Assert.Equal(ErrorCodes.InvalidField, bad.Code);
        await using var socket = await _server.ConnectAsync(_admin);
        await socket.SendRawAsync("""{"type":"group","rid":"g1"}""");
        var missing = await socket.NextAsync<ErrorFrame>();
        Assert.Equal((ErrorCodes.MissingField, "g1"), (missing.Code, missing.Ref));
        var name = await RefusedAsync(() => socket.GroupAsync("rename", _groupId, name: new string('x', 101)));
        Assert.Equal(ErrorCodes.InvalidField, name.Code);
    }
}
