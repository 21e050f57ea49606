using Natter.Client;
using Natter.Client.Crypto;
using Natter.Testing;

namespace Natter.Bench.Load;

/// <summary>Accounts and chats for a run: registered through the public API like real clients.</summary>
public static class Population
{
    public sealed record Pair(DeviceSession A, DeviceSession B, string ChatId);

    public static async Task<List<Pair>> PairsAsync(ServerProcess server, int pairs)
    {
        var result = new Pair[pairs];
        using var gate = new SemaphoreSlim(8);
        await Task.WhenAll(Enumerable.Range(0, pairs).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var a = await server.RegisterAsync();
                var b = await server.RegisterAsync();
                var chat = await server.Api.OpenChatAsync(a.AccessToken, "+" + b.UserId);
                result[i] = new Pair(a, b, chat.ChatId);
            }
            finally
            {
                gate.Release();
            }
        }));
        return result.ToList();
    }

    /// <summary>New accounts, each with one device.</summary>
    public static async Task<List<DeviceSession>> RegisterAsync(ServerProcess server, int count, int parallelism = 8)
    {
        using var gate = new SemaphoreSlim(parallelism);
        return (await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync();
            try { return await server.RegisterAsync(); }
            finally { gate.Release(); }
        }))).ToList();
    }

    /// <summary>Publishes keys for each device (fresh ones, signed as the server checks; no one-time prekeys: nobody sets up a session).</summary>
    public static async Task PublishKeysAsync(ServerProcess server, IEnumerable<DeviceSession> sessions)
    {
        using var gate = new SemaphoreSlim(8);
        await Task.WhenAll(sessions.Select(async session =>
        {
            var keys = DeviceKeys.Generate(0);
            await gate.WaitAsync();
            try { await server.Api.PublishKeysAsync(session.AccessToken, keys.PublishRequest([])); }
            finally { gate.Release(); }
        }));
    }

    /// <summary>The direct chat of <paramref name="owner"/> with each peer, in the peers' order.</summary>
    public static async Task<List<string>> OpenChatsAsync(ServerProcess server, DeviceSession owner, IEnumerable<DeviceSession> peers)
    {
        using var gate = new SemaphoreSlim(8);
        return (await Task.WhenAll(peers.Select(async peer =>
        {
            await gate.WaitAsync();
            try { return (await server.Api.OpenChatAsync(owner.AccessToken, "+" + peer.UserId)).ChatId; }
            finally { gate.Release(); }
        }))).ToList();
    }

    public static async Task<NatterConnection[]> ConnectAsync(ServerProcess server, IEnumerable<DeviceSession> sessions)
    {
        using var gate = new SemaphoreSlim(32);
        return await Task.WhenAll(sessions.Select(async s =>
        {
            await gate.WaitAsync();
            try
            {
                var connection = await server.ConnectAsync(s);
                connection.KeepFrames = false;
                return connection;
            }
            finally
            {
                gate.Release();
            }
        }));
    }
}
