using Natter.Cluster.Edge.Auth;

namespace Natter.Cluster.Edge;

/// <summary>POST /api/accounts/register and /api/accounts/verify: the only routes without a token.</summary>
public static class AccountEndpoints
{
    public sealed record RegisterRequest(string? Phone);

    public sealed record VerifyRequest(string? Phone, string? Code, string? DeviceName);

    public static void MapAccountEndpoints(this IEndpointRouteBuilder api)
    {
        var accounts = api.MapGroup("/accounts");
        accounts.MapPost("/register", async (RegisterRequest request, AccountService service, CancellationToken ct) =>
        {
            var (started, code, error) = await service.RequestCodeAsync(request.Phone, ct);
            return started is null ? ApiErrors.Result(code!, error!) : Results.Accepted(value: started);
        });
        accounts.MapPost("/verify", async (VerifyRequest request, AccountService service, CancellationToken ct) =>
        {
            var (session, code, error) = await service.VerifyAsync(request.Phone, request.Code, request.DeviceName, ct);
            return session is null ? ApiErrors.Result(code!, error!) : Results.Ok(session);
        });
    }
}
