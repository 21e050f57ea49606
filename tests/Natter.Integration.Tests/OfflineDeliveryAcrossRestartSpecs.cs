using Natter.Testing;
using Natter.Client;
using Natter.Integration.Tests.Infrastructure;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// Messages to an offline user survive the server process being killed (no graceful shutdown) and
/// started again on the same journal; the recipient then receives each of them exactly once, in order.
/// </summary>
public abstract class OfflineDeliveryAcrossRestartSpecs
{
    protected abstract Task<Journal> JournalAsync();

    [Fact]
    public async Task Offline_recipient_receives_all_100_messages_once_in_order_after_the_server_is_killed_and_restarted()
    {
        const int count = 100;
        var journal = await JournalAsync();
        var data = TempDirectory.Create("natter-restart");
        DeviceSession alice, bob;
        string chatId;

        await using (var first = await ServerProcess.StartAsync(journal, data))
        {
            alice = await first.RegisterAsync();
            bob = await first.RegisterAsync();
            chatId = (await first.Api.OpenChatAsync(alice.AccessToken, "+" + bob.UserId)).ChatId;
            await using var aliceSocket = await first.ConnectAsync(alice);
            var sends = Enumerable.Range(1, count)
                .Select(i => aliceSocket.SendPipelinedAsync(chatId, $"offline-{i}", BitConverter.GetBytes(i))).ToList();
            await Task.WhenAll(sends); // every one acknowledged, so every one is durable
            await first.KillAsync();
        }

        await using (var second = await ServerProcess.StartAsync(journal, data))
        {
            var inbox = new ReceivedMessages();
            await using var bobSocket = await second.ConnectAsync(bob, inbox); // the old token still works
            var synced = await bobSocket.SyncAsync();

            Assert.Equal(count, synced.Messages);
            var received = inbox.Of(chatId);
            Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), received.Select(m => m.Seq));
            Assert.Equal(Enumerable.Range(1, count).Select(i => $"offline-{i}"), received.Select(m => m.ClientMsgId));
            Assert.Equal(Enumerable.Range(1, count), received.Select(m => BitConverter.ToInt32(m.Body)));
            Assert.Equal((0, 0), (inbox.Duplicates, inbox.OutOfOrder));
        }
        TempDirectory.Delete(data);
    }
}

public sealed class SqliteOfflineDeliveryAcrossRestartSpecs : OfflineDeliveryAcrossRestartSpecs
{
    protected override Task<Journal> JournalAsync() => Task.FromResult(Journal.Sqlite());
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresOfflineDeliveryAcrossRestartSpecs(PostgresFixture postgres) : OfflineDeliveryAcrossRestartSpecs
{
    protected override async Task<Journal> JournalAsync() => Journal.Postgres(await postgres.CreateDatabaseAsync());
}
