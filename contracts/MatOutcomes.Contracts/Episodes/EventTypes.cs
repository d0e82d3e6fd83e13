namespace MatOutcomes.Contracts.Episodes;

/// <summary>The stable names of the episode events, on the wire and in the event store. A name
/// is never reused for another shape; the C# class can be renamed freely.</summary>
public static class EventTypes
{
    public static readonly IReadOnlyDictionary<string, Type> ByName = new Dictionary<string, Type>
    {
        ["episode-opened.v1"] = typeof(EpisodeOpened),
        ["session-recorded.v1"] = typeof(SessionRecorded),
        ["outcome-measured.v1"] = typeof(OutcomeMeasured),
        ["episode-discharged.v1"] = typeof(EpisodeDischarged),
        ["follow-up-recorded.v1"] = typeof(FollowUpRecorded),
        ["entry-voided.v1"] = typeof(EntryVoided),
        ["episode-opening-corrected.v1"] = typeof(EpisodeOpeningCorrected),
    };

    public static readonly IReadOnlyDictionary<Type, string> ByType =
        ByName.ToDictionary(kv => kv.Value, kv => kv.Key);

    public static string NameOf(object @event) => ByType[@event.GetType()];
}
