using System.Text;
using Natter.Client;
using Natter.Client.Secure;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Npgsql;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// The server holds no plaintext: a random canary goes through the whole system end-to-end encrypted
/// (a 1:1 chat, a group, an attachment, a history transfer), then every file of the server's data
/// directory (journal, media store, logs) and, on PostgreSQL, every row of every table is scanned for it,
/// as text, base64 and hex. A control string sent without encryption must be found by the same scan, so
/// a scan that sees nothing cannot pass.
/// </summary>
public abstract class NoPlaintextOnServerSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly string _canary = "canary-" + Guid.NewGuid().ToString("N");
    private readonly string _control = "control-" + Guid.NewGuid().ToString("N");
    // The spec stops the server to scan its folder, then starts it again on it.
    private readonly string _data = TempDirectory.Create("natter-server");
    private InProcessServer _server = null!;
    private Journal _journal = null!;

    protected abstract Task<Journal> JournalAsync();

    public async Task InitializeAsync()
    {
        _journal = await JournalAsync();
        _server = await InProcessServer.StartAsync(_journal, _data);
    }

    public async Task DisposeAsync()
    {
        try { await _server.DisposeAsync(); }
        finally { TempDirectory.Delete(_data); }
    }

    [Fact]
    public async Task A_canary_sent_end_to_end_encrypted_appears_nowhere_on_the_server()
    {
        var canary = Encoding.UTF8.GetBytes(_canary);
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var carol = await _server.RegisterAsync();
        var secure = new Dictionary<string, SecureDevice>();
        foreach (var session in new[] { alice, bob, carol })
            secure[session.AccessToken] = await SecureDevice.CreateAsync(_server.Api, session);
        var linking = await DeviceLinking.RequestAsync(_server.Api, "+" + alice.UserId, "laptop");
        await secure[alice.AccessToken].ApproveLinkAsync(linking.LinkCode);
        var aliceLaptopDevice = (await linking.TryCompleteAsync())!;
        var aliceLaptop = aliceLaptopDevice.Session;
        secure[aliceLaptop.AccessToken] = aliceLaptopDevice;
        await using var aliceSocket = await _server.ConnectAsync(alice);
        await using var bobSocket = await _server.ConnectAsync(bob);

        // 1:1, the canary as the whole body.
        var direct = (await _server.Api.OpenChatAsync(alice.AccessToken, "+" + bob.UserId)).ChatId;
        await secure[alice.AccessToken].SendAsync(aliceSocket, direct, [alice.UserId, bob.UserId], "d1", canary);
        // A group.
        var group = (await aliceSocket.GroupAsync("create", name: "canaries", userIds: ["+" + bob.UserId, "+" + carol.UserId])).GroupId;
        await secure[alice.AccessToken].SendAsync(aliceSocket, group, [alice.UserId, bob.UserId, carol.UserId], "g1", canary);
        // An attachment, encrypted before upload, its key inside the sealed message.
        var (file, fileKey, sha) = SecureDevice.EncryptAttachment(Encoding.UTF8.GetBytes($"file with {_canary} inside"));
        var stored = await _server.Api.UploadMediaAsync(alice.AccessToken, new MemoryStream(file), "application/octet-stream", sha);
        await secure[alice.AccessToken].SendAsync(aliceSocket, direct, [alice.UserId, bob.UserId], "d2",
            Encoding.UTF8.GetBytes($"{stored.Id}:{Convert.ToBase64String(fileKey)}:{_canary}"),
            attachment: new MediaFrame(stored.Id, stored.Size, stored.ContentType));
        // The control: a body the client did not encrypt.
        await aliceSocket.SendAsync(direct, "plain", Encoding.UTF8.GetBytes(_control));
        // A history transfer to the laptop.
        await secure[alice.AccessToken].SendHistoryAsync(aliceLaptop.DeviceId);

        // The recipients can read it all.
        await bobSocket.Received.WaitForCountAsync(direct, 2, Wait);
        Assert.Equal(canary, await secure[bob.AccessToken].OpenAsync(bobSocket.Received.Of(direct)[0]));
        await bobSocket.Received.WaitForCountAsync(group, 2, Wait); // the group's creation entry, then the message
        Assert.Equal(canary, await secure[bob.AccessToken].OpenAsync(bobSocket.Received.Of(group).Single(m => m.ClientMsgId == "g1")));
        var groupPage = await _server.Api.GetGroupMessagesAsync(carol.AccessToken, group);
        Assert.Equal(canary, await secure[carol.AccessToken].OpenAsync(groupPage.Messages.Single(m => m.ClientMsgId == "g1")));
        using (var download = await _server.Api.DownloadMediaAsync(bob.AccessToken, stored.Id, direct, bobSocket.Received.Of(direct)[1].Seq))
            Assert.Contains(_canary, Encoding.UTF8.GetString(SecureDevice.DecryptAttachment(await download.Content.ReadAsByteArrayAsync(), fileKey)));
        Assert.Equal(3, await secure[aliceLaptop.AccessToken].ReceiveHistoryAsync());

        await _server.DisposeAsync(); // flushes the journal and the logs
        var needles = Needles(canary);
        var controls = Needles(Encoding.UTF8.GetBytes(_control));
        var controlFound = false;
        foreach (var path in Directory.EnumerateFiles(_server.DataDirectory, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(path);
            foreach (var needle in needles) Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{path} holds the canary");
            controlFound |= controls.Any(c => bytes.AsSpan().IndexOf(c) >= 0);
        }
        if (_journal.ConnectionString is { } connectionString) controlFound |= await ScanDatabaseAsync(connectionString, needles, controls);
        Assert.True(controlFound, "the scan did not find the unencrypted control string: it would not find a leak either");
        _server = await InProcessServer.StartAsync(_journal, _data);
    }

    /// <summary>
    /// The canary as text, base64 and hex, and each of those as hex again: bytes end up base64 in the
    /// journal's JSON, and a bytea column reads as hex.
    /// </summary>
    private static List<byte[]> Needles(byte[] canary)
    {
        List<byte[]> forms =
        [
            canary,
            Encoding.ASCII.GetBytes(Convert.ToBase64String(canary).TrimEnd('=')[..^2]),
            Encoding.ASCII.GetBytes(Convert.ToHexStringLower(canary)),
        ];
        return [.. forms, .. forms.Select(f => Encoding.ASCII.GetBytes(Convert.ToHexStringLower(f)))];
    }

    /// <summary>Asserts no row holds a needle; true if some row holds a control.</summary>
    private static async Task<bool> ScanDatabaseAsync(string connectionString, List<byte[]> needles, List<byte[]> controls)
    {
        var controlFound = false;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("select table_name from information_schema.tables where table_schema = 'public'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        Assert.NotEmpty(tables);
        foreach (var table in tables)
        {
            await using var rows = new NpgsqlCommand($"select t::text from \"{table}\" t", connection);
            await using var reader = await rows.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var row = Encoding.UTF8.GetBytes(reader.GetString(0));
                foreach (var needle in needles) Assert.True(row.AsSpan().IndexOf(needle) < 0, $"a row of {table} holds the canary");
                controlFound |= controls.Any(c => row.AsSpan().IndexOf(c) >= 0);
            }
        }
        return controlFound;
    }
}

public sealed class SqliteNoPlaintextOnServerSpecs : NoPlaintextOnServerSpecs
{
    protected override Task<Journal> JournalAsync() => Task.FromResult(Journal.Sqlite());
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresNoPlaintextOnServerSpecs(PostgresFixture postgres) : NoPlaintextOnServerSpecs
{
    protected override async Task<Journal> JournalAsync() => Journal.Postgres(await postgres.CreateDatabaseAsync());
}
