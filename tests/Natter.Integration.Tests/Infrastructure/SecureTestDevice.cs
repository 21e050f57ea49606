using System.Text;
using Natter.Client;
using Natter.Client.Secure;

namespace Natter.Integration.Tests.Infrastructure;

/// <summary>A device as an end-to-end encrypting client runs it: its session, its keys (published) and its synced socket.</summary>
public sealed record SecureTestDevice(DeviceSession Session, SecureDevice Secure, NatterConnection Socket, NatterHttpClient Api)
{
    public static async Task<SecureTestDevice> StartAsync(InProcessServer server, DeviceSession session)
    {
        var secure = await SecureDevice.CreateAsync(server.Api, session);
        var socket = await server.ConnectAsync(session);
        await socket.SyncAsync();
        return new SecureTestDevice(session, secure, socket, server.Api);
    }

    /// <summary>A device linked to <paramref name="primary"/>'s account as an app does it: its link code scanned and endorsed by the primary.</summary>
    public static async Task<SecureTestDevice> LinkAsync(InProcessServer server, SecureTestDevice primary, string name)
    {
        var linking = await DeviceLinking.RequestAsync(server.Api, "+" + primary.Session.UserId, name);
        await primary.Secure.ApproveLinkAsync(linking.LinkCode);
        var secure = await linking.TryCompleteAsync() ?? throw new InvalidOperationException("approved, yet the link is pending");
        var socket = await server.ConnectAsync(secure.Session);
        await socket.SyncAsync();
        return new SecureTestDevice(secure.Session, secure, socket, server.Api);
    }

    /// <summary>What this device reads of the chat's history, opened, oldest first.</summary>
    public async Task<List<string>> HistoryAsync(string chatId)
    {
        var page = await Api.GetMessagesAsync(Session.AccessToken, chatId);
        var texts = new List<string>();
        foreach (var message in page.Messages.OrderBy(m => m.Seq)) texts.Add(Encoding.UTF8.GetString(await Secure.OpenAsync(message)));
        return texts;
    }
}
