using Natter.Cluster.Edge.Auth;

namespace Natter.Cluster.Edge;

/// <summary>
/// The only routes without a token: POST /api/accounts/register and /verify (a phone's primary device),
/// and POST /api/accounts/link and /link/{linkId}/complete (a device linked with an existing device's approval).
/// </summary>
public static class AccountEndpoints
{
    public sealed record RegisterRequest(string? Phone);

    public sealed record VerifyRequest(string? Phone, string? Code, string? DeviceName);

    public sealed record LinkRequestBody(string? Phone, string? DeviceName);

    public sealed record CompleteLinkRequest(string? DeviceSecret);

    public static void MapAccountEndpoints(this IEndpointRouteBuilder api)
    {
        var accounts = api.MapGroup("/accounts");
        accounts.MapPost("/register", async (RegisterRequest request, AccountService service, AccountRequestLimiter limiter, CancellationToken ct) =>
        {
            if (!limiter.TryTake(PhoneKey(request.Phone))) return limiter.Refusal;
            var (started, code, error) = await service.RequestCodeAsync(request.Phone, ct);
            return started is null ? ApiErrors.Result(code!, error!) : Results.Accepted(value: started);
        });
        accounts.MapPost("/verify", async (VerifyRequest request, AccountService service, AccountRequestLimiter limiter, CancellationToken ct) =>
        {
            if (!limiter.TryTake(PhoneKey(request.Phone))) return limiter.Refusal;
            var (session, code, error) = await service.VerifyAsync(request.Phone, request.Code, request.DeviceName, ct);
            return session is null ? ApiErrors.Result(code!, error!) : Results.Ok(session);
        });
        accounts.MapPost("/link", async (LinkRequestBody request, AccountService service, AccountRequestLimiter limiter, CancellationToken ct) =>
        {
            if (!limiter.TryTake(PhoneKey(request.Phone))) return limiter.Refusal;
            var (link, code, error) = await service.RequestLinkAsync(request.Phone, request.DeviceName, ct);
            return link is null ? ApiErrors.Result(code!, error!) : Results.Accepted(value: link);
        });
        accounts.MapPost("/link/{linkId}/complete", async (string linkId, CompleteLinkRequest request, AccountService service, CancellationToken ct) =>
        {
            var (session, code, error) = await service.CompleteLinkAsync(linkId, request.DeviceSecret, ct);
            return session is null ? ApiErrors.Result(code!, error!) : Results.Ok(session);
        });
    }

    // The same number however it is written; anything not a number shares one bucket.
    private static string PhoneKey(string? phone) => Natter.Messages.UserId.FromPhoneNumber(phone)?.Value ?? "invalid";
}
