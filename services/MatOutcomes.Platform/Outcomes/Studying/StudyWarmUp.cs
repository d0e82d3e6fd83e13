using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>One study on a small made-up cube, run while a starting node loads its release: the
/// study code is then compiled by the time the first researcher asks, instead of on that request
/// (at 1M events the first answer after a restart spent about half its time there). The cube has its
/// own clinic directory, so nothing of it reaches the node's cubes.</summary>
public static class StudyWarmUp
{
    /// <summary>Runs the study; returns it, so a test can see that every part of it was computed.</summary>
    public static CohortComparison Run()
    {
        var writer = new CubeWriter(new ClinicDirectory());
        var regions = Enum.GetValues<ComplaintRegion>();
        for (var i = 0; i < 400; i++)
        {
            var baseline = 3 + i % 8;
            var latest = Math.Max(0, baseline - 1 - i % 4);
            var key = new CellKey($"warm-up-{i % 4}", "2024Q1", FormatClass.StandaloneMat, true,
                i % 3 == 0 ? PainDuration.Under6 : PainDuration.From26To51, regions[i % regions.Length],
                OccupationGroup.DeskStressful, AgeBand.From40To49, Sex.Female);
            writer.Add(new Contribution(key, baseline, latest, latest, null, null, 1.5, null, null, 4,
                [.. Enumerable.Repeat(-1, baseline)], false, false));
        }
        writer.Sequence = 1;
        return StudyCalculator.Compare(writer.Publish(live: false), new StudyQuery(), k: 1);
    }
}
