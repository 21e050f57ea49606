using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using System.Xml.Linq;

namespace Natter.Bench.Peers;

/// <summary>
/// A minimal XMPP client over WebSocket (RFC 7395): in-band registration, SASL PLAIN, resource binding,
/// initial presence, chat messages. One WebSocket message carries one XML element.
/// </summary>
public sealed class XmppClient : IAsyncDisposable
{
    private static readonly XNamespace Client = "jabber:client";
    /// <summary>How long one login step (connect, or an answer from the server) may take.</summary>
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);
    private readonly ClientWebSocket _socket = new();
    private readonly Channel<XElement> _setup = Channel.CreateUnbounded<XElement>();
    private Task? _readLoop;
    private bool _online;

    public required string User { get; init; }
    public string Jid => $"{User}@localhost";

    /// <summary>Called with each chat message body once the session is online.</summary>
    public Action<string>? OnMessage { get; set; }

    public async Task ConnectAsync(Uri uri, string password, Func<HttpMessageInvoker> invoker)
    {
        _socket.Options.AddSubProtocol("xmpp");
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;
        using (var connectTimeout = new CancellationTokenSource(StepTimeout))
            await _socket.ConnectAsync(uri, invoker(), connectTimeout.Token);
        _readLoop = Task.Run(ReadLoopAsync);

        await OpenStreamAsync();
        await SendAsync($"<iq xmlns='jabber:client' type='set' id='reg'><query xmlns='jabber:iq:register'><username>{User}</username><password>{password}</password></query></iq>");
        var registered = await NextAsync(e => e.Name.LocalName == "iq");
        if (registered.Attribute("type")?.Value == "error" && !registered.ToString().Contains("conflict"))
            throw new InvalidOperationException($"registration of {User} failed: {registered}");

        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{User}\0{password}"));
        await SendAsync($"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{plain}</auth>");
        var auth = await NextAsync(e => e.Name.LocalName is "success" or "failure");
        if (auth.Name.LocalName != "success") throw new InvalidOperationException($"login of {User} failed: {auth}");

        await OpenStreamAsync();
        await SendAsync("<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bench</resource></bind></iq>");
        await NextAsync(e => e.Name.LocalName == "iq" && e.Attribute("id")?.Value == "bind");
        await SendAsync("<iq xmlns='jabber:client' type='set' id='sess'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
        await NextAsync(e => e.Name.LocalName == "iq" && e.Attribute("id")?.Value == "sess");
        _online = true;
        await SendAsync("<presence xmlns='jabber:client'/>");
    }

    private async Task OpenStreamAsync()
    {
        await SendAsync("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>");
        await NextAsync(e => e.Name.LocalName == "open");
        await NextAsync(e => e.Name.LocalName == "features");
    }

    public Task SendMessageAsync(string to, string id, string body) =>
        SendAsync($"<message xmlns='jabber:client' to='{to}' type='chat' id='{id}'><body>{body}</body></message>");

    private readonly SemaphoreSlim _sendLock = new(1, 1);

    private async Task SendAsync(string xml, CancellationToken token = default)
    {
        var bytes = Encoding.UTF8.GetBytes(xml);
        await _sendLock.WaitAsync(token);
        try { await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, token); }
        finally { _sendLock.Release(); }
    }

    private async Task<XElement> NextAsync(Func<XElement, bool> match)
    {
        using var timeout = new CancellationTokenSource(StepTimeout);
        while (true)
        {
            XElement element;
            try
            {
                element = await _setup.Reader.ReadAsync(timeout.Token);
            }
            catch (ChannelClosedException)
            {
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, $"the socket of {User} closed during login");
            }
            if (element.Name.LocalName == "close") throw new InvalidOperationException("server closed the stream");
            if (match(element)) return element;
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[16 * 1024];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                if (!await Natter.Client.WebSocketMessages.ReadAsync(_socket, buffer, message, CancellationToken.None)) return;

                var text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
                if (_online && text.StartsWith("<message", StringComparison.Ordinal))
                {
                    var body = XElement.Parse(text).Element(Client + "body")?.Value;
                    if (body is not null) OnMessage?.Invoke(body);
                    continue;
                }
                try
                {
                    _setup.Writer.TryWrite(XElement.Parse(text));
                }
                catch (System.Xml.XmlException e)
                {
                    Console.Error.WriteLine($"xmpp {User}: unreadable element ({e.Message}): {text}");
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or System.Xml.XmlException) { }
        finally
        {
            // A login step waiting for an answer learns at once that none will come.
            _setup.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await SendAsync("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>", timeout.Token);
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
        _socket.Dispose();
        if (_readLoop is not null) await _readLoop.WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(_ => { });
    }
}
