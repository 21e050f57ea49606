using System.Collections;
using System.Reflection;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Natter.Actors.Serialization;
using Natter.Messages;
using Natter.Messages.Chats;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>Every stored or remoted type survives a round trip through the serializer bound to it, under its manifest.</summary>
public sealed class SerializerSpecs() : TestKit(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()))
{
    public static IEnumerable<object[]> AllTypes() => Manifests.Types.Select(t => new object[] { t });

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Round_trips_through_the_bound_serializer(Type type)
    {
        var sample = Samples.Build(type, Sys, TestActor);
        var serializer = Sys.Serialization.FindSerializerFor(sample);
        Assert.IsType<NatterSerializer>(serializer);

        var natter = (NatterSerializer)serializer;
        var bytes = natter.ToBinary(sample);
        var back = natter.FromBinary(bytes, natter.Manifest(sample));

        Assert.IsType(type, back);
        Assert.Equal(bytes, natter.ToBinary(back));
    }

    [Fact]
    public void Manifests_are_unique_and_short()
    {
        Assert.Equal(Manifests.ByName.Count, Manifests.ByType.Count);
        Assert.All(Manifests.ByName.Keys, m => Assert.True(m.Length <= 24, m));
    }

    /// <summary>Builds an instance of any contract type with a value in every field (so nothing round-trips as default).</summary>
    private static class Samples
    {
        public static object Build(Type type, ActorSystem system, IActorRef actor) => Value(type, actor, depth: 0)!;

        private static object? Value(Type type, IActorRef actor, int depth)
        {
            if (type == typeof(string)) return "s-" + depth;
            if (type == typeof(int)) return 7;
            if (type == typeof(uint)) return 9u;
            if (type == typeof(long)) return 42L;
            if (type == typeof(bool)) return true;
            if (type == typeof(byte[])) return new byte[] { 1, 2, 3 };
            if (type == typeof(DateTimeOffset)) return new DateTimeOffset(2026, 11, 29, 1, 2, 3, TimeSpan.Zero);
            if (type == typeof(UserId)) return new UserId("15551230001");
            if (type == typeof(DeviceId)) return new DeviceId(2);
            if (type == typeof(ChatId)) return ChatId.Direct(new UserId("15551230001"), new UserId("15551230002"));
            if (type == typeof(IActorRef)) return actor;
            if (type == typeof(ChatNotices.IChatNotice))
                return Value(typeof(ChatNotices.ReceiptUpdated), actor, depth + 1);
            if (type == typeof(Natter.Messages.Users.DeviceNotices.IDeviceNotice))
                return Value(typeof(Natter.Messages.Users.DeviceNotices.PreKeysLow), actor, depth + 1);
            if (type.IsEnum) return Enum.GetValues(type).GetValue(0);
            if (Nullable.GetUnderlyingType(type) is { } inner) return Value(inner, actor, depth);
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
            {
                var element = type.GetGenericArguments()[0];
                var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
                list.Add(Value(element, actor, depth + 1));
                return list;
            }
            var constructor = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance)
                .OrderByDescending(c => c.GetParameters().Length).First();
            return constructor.Invoke(constructor.GetParameters().Select(p => Value(p.ParameterType, actor, depth + 1)).ToArray());
        }
    }
}
