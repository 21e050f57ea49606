using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests.Infrastructure;

/// <summary>One PostgreSQL server for every test class in the "postgres" collection.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; } = new();

    public Task<string> CreateDatabaseAsync() => Server.CreateDatabaseAsync();

    public Task InitializeAsync() => Server.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
