using System.Text;
using Microsoft.Playwright;
using Natter.Integration.Tests.Infrastructure;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// The browser client (Cluster.Edge/wwwroot) in real headless Chromium (Debian's, installed by test.sh), driven
/// by Playwright, talking to a real server, with a C# client on the other side of the chat.
/// </summary>
public sealed class BrowserClientSpecs : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private InProcessServer _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _server = await InProcessServer.StartAsync(Journal.Sqlite());
        _playwright = await Playwright.CreateAsync();
        // A loaded 2-core CI machine: give page loads and socket round trips more than the default 5 s.
        Assertions.SetDefaultExpectTimeout(30_000);
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // This machine has no network beyond loopback: keep Chromium from reaching out.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_browser_user_and_a_native_user_chat_both_ways()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var chatId = (await _server.Api.OpenChatAsync(alice.AccessToken, "+" + bob.UserId)).ChatId;
        await _server.Api.PostMessageAsync(bob.AccessToken, chatId, "before", Encoding.UTF8.GetBytes("sent while the browser was away"));
        await using var bobSocket = await _server.ConnectAsync(bob);
        await bobSocket.SyncAsync();

        var page = await _browser.NewPageAsync();
        await page.GotoAsync($"{_server.BaseAddress}#token={Uri.EscapeDataString(alice.AccessToken)}");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("online");
        await page.Locator($"[data-chat='{chatId}']").ClickAsync();
        // What arrived while away came with the sync.
        await Assertions.Expect(page.Locator("#messages li").First).ToHaveTextAsync("sent while the browser was away");

        await bobSocket.SendAsync(chatId, "live-1", Encoding.UTF8.GetBytes("hello from the native client"));
        await Assertions.Expect(page.Locator("#messages li").Nth(1)).ToHaveTextAsync("hello from the native client");

        await page.Locator("#text").FillAsync("hi from Chromium");
        await page.Locator("#composer button").ClickAsync();
        await bobSocket.Received.WaitForCountAsync(chatId, 3, TimeSpan.FromSeconds(20));
        var fromBrowser = bobSocket.Received.Of(chatId)[^1];
        Assert.Equal((alice.UserId, "hi from Chromium"), (fromBrowser.Sender, Encoding.UTF8.GetString(fromBrowser.Body)));
        await Assertions.Expect(page.Locator("#messages li.mine")).ToHaveTextAsync("hi from Chromium");

        // The browser acknowledged what it showed: Bob sees his messages read.
        var read = await bobSocket.NextAsync<Natter.Messages.Protocol.ReceiptFrame>(r => r.Kind == "read" && r.UserId == alice.UserId && r.Seq >= 2);
        Assert.True(read.Seq >= 2);
    }
}
