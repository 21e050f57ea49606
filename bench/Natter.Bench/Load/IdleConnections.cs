using System.Net.WebSockets;
using Natter.Client;
using Natter.Messages.Protocol;

namespace Natter.Bench.Load;

/// <summary>
/// Idle client connections to one edge, one for each access token, opened 64 at a time from rotating source
/// addresses; counts what opened, what failed, and the pongs the connections receive.
/// </summary>
public sealed class IdleConnections
{
    private int _opened;
    private long _failed;
    private long _pongs;

    public int Opened => Volatile.Read(ref _opened);
    public long Failed => Interlocked.Read(ref _failed);
    public long Pongs => Interlocked.Read(ref _pongs);

    /// <summary>Opens them all; returns those that opened.</summary>
    public async Task<List<NatterConnection>> OpenAsync(Uri edge, IEnumerable<string> accessTokens, LocalAddresses addresses)
    {
        using var gate = new SemaphoreSlim(64);
        var connections = await Task.WhenAll(accessTokens.Select(async token =>
        {
            await gate.WaitAsync();
            try
            {
                var connection = await NatterConnection.ConnectAsync(edge, token, invoker: addresses.NextInvoker());
                connection.KeepFrames = false;
                connection.FrameReceived += f => { if (f is PongFrame) Interlocked.Increment(ref _pongs); };
                Interlocked.Increment(ref _opened);
                return connection;
            }
            catch (Exception e) when (e is WebSocketException or HttpRequestException or TimeoutException)
            {
                Interlocked.Increment(ref _failed);
                return null;
            }
            finally
            {
                gate.Release();
            }
        }));
        return connections.OfType<NatterConnection>().ToList();
    }
}
