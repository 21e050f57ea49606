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

    /// <summary>What this device reads of the chat's history, opened, oldest first.</summary>
    public async Task<List<string>> HistoryAsync(string chatId)
    {
        var page = await Api.GetMessagesAsync(Session.AccessToken, chatId);
        var texts = new List<string>();
        foreach (var message in page.Messages.OrderBy(m => m.Seq)) texts.Add(Encoding.UTF8.GetString(await Secure.OpenAsync(message)));
        return texts;
    }
}
