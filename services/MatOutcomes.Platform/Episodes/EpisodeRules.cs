using MatOutcomes.Contracts;
using MatOutcomes.Contracts.Episodes;

namespace MatOutcomes.Platform.Episodes;

/// <summary>The rules an event must meet given its episode's history. Pure: (episode so far,
/// event) to the broken rules, empty when the event may be appended.</summary>
public static class EpisodeRules
{
    public static IEnumerable<FieldError> Check(Episode? episode, object @event, string path)
    {
        if (episode is null)
        {
            if (@event is not EpisodeOpened)
                yield return new($"{path}.type", "first-event", "an episode's first event must be episode-opened.v1");
            yield break;
        }

        switch (@event)
        {
            case EpisodeOpened:
                yield return new($"{path}.type", "already-opened", "the episode is already open; correct it with episode-opening-corrected.v1");
                break;
            case SessionRecorded s:
                if (episode.Discharge is not null)
                    yield return new($"{path}.type", "episode-discharged", "the episode is discharged; void the discharge first to record more sessions");
                if (s.SessionDate < episode.Intake.OpenedOn)
                    yield return new($"{path}.data.sessionDate", "not-before-opening", $"must not be before the episode opened ({episode.Intake.OpenedOn:yyyy-MM-dd})");
                break;
            case OutcomeMeasured o:
                if (episode.Discharge is { } d && o.MeasuredOn > d.Date)
                    yield return new($"{path}.data.measuredOn", "not-after-discharge", "must not be after discharge; use follow-up-recorded.v1");
                if (o.MeasuredOn < episode.Intake.OpenedOn)
                    yield return new($"{path}.data.measuredOn", "not-before-opening", $"must not be before the episode opened ({episode.Intake.OpenedOn:yyyy-MM-dd})");
                break;
            case EpisodeDischarged x:
                if (episode.Discharge is not null)
                    yield return new($"{path}.type", "already-discharged", "the episode is already discharged");
                if (episode.LastSessionDate is { } last && x.DischargedOn < last)
                    yield return new($"{path}.data.dischargedOn", "not-before-last-session", $"must not be before the last session ({last:yyyy-MM-dd})");
                if (x.DischargedOn < episode.Intake.OpenedOn)
                    yield return new($"{path}.data.dischargedOn", "not-before-opening", $"must not be before the episode opened ({episode.Intake.OpenedOn:yyyy-MM-dd})");
                break;
            case FollowUpRecorded f:
                if (episode.Discharge is not { } discharge)
                    yield return new($"{path}.type", "not-discharged", "follow-ups are recorded after discharge");
                else if (f.RecordedOn < discharge.Date)
                    yield return new($"{path}.data.recordedOn", "not-before-discharge", $"must not be before discharge ({discharge.Date:yyyy-MM-dd})");
                break;
            case EntryVoided v:
                if (!episode.Holds(v.VoidedEventId))
                    yield return new($"{path}.data.voidedEventId", "void-target",
                        "must name a session, outcome, discharge or follow-up of this episode that is not already voided");
                else if (episode.Discharge?.EventId == v.VoidedEventId && episode.FollowUps.Count > 0)
                    yield return new($"{path}.data.voidedEventId", "void-target", "void the episode's follow-ups before its discharge");
                break;
            case EpisodeOpeningCorrected c:
                if (episode.Sessions.Any(s => s.Date < c.OpenedOn))
                    yield return new($"{path}.data.openedOn", "not-after-first-session", "must not be after a recorded session");
                break;
        }
    }
}
