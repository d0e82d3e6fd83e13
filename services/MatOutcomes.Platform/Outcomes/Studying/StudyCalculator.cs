using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Studying;

public sealed record CohortOutcomes(
    string Cohort,
    long? Patients,
    bool Suppressed,
    MeanEstimate ImmediateRelief,
    MeanEstimate DurableNprsChange,
    MeanEstimate NdiChange,
    MeanEstimate OdiChange,
    ProportionEstimate NprsResponders,
    ProportionEstimate NdiResponders,
    ProportionEstimate OdiResponders,
    ProportionEstimate RelapseAtFollowUp,
    SurvivalEstimate SessionsToMcid);

/// <summary>Early versus chronic. Differences are early minus chronic; positive change means less pain.</summary>
public sealed record CohortComparison(
    long Sequence,
    int K,
    bool Suppressed,
    string? SuppressionReason,
    CohortOutcomes Early,
    CohortOutcomes Chronic,
    CohortOutcomes Acute,
    CohortOutcomes Subacute,
    DifferenceEstimate DurableChangeDifference,
    DifferenceEstimate DurableChangeHedgesG,
    DifferenceEstimate NdiChangeDifference,
    DifferenceEstimate OdiChangeDifference,
    DifferenceEstimate ResponderRiskDifference,
    NntEstimate NumberNeededToTreat,
    AdjustedEstimate AdjustedDurableChangeDifference,
    AdjustedEstimate AdjustedResponderDifference,
    IReadOnlyList<ClinicBenchmark> Benchmarks);

/// <summary>Every study statistic from summed cells: O(cells of the smallest table that keeps what the
/// study restricts), whatever the number of events. Suppression is decided first, from counts; a
/// withheld study computes nothing and carries nothing but its reason.</summary>
public static class StudyCalculator
{
    public const string UnsafeQuery =
        "A combination of the restricted dimensions holds fewer than k patients; answering would let two studies be subtracted to reveal them.";

    public static CohortComparison Compare(CubeSnapshot snapshot, StudyQuery query, int k)
    {
        if (!Suppression.IsSafe(snapshot, query.Restricted, k)) return Withheld(snapshot.Sequence, k);

        var filter = new CellFilter(query, snapshot);
        var bands = Bands(snapshot, filter, query);
        var early = CohortSums.Of(bands.Where((_, band) => query.IsEarly((PainDuration)band)));
        var chronic = CohortSums.Of(bands.Where((_, band) => !query.IsEarly((PainDuration)band)));

        var e = Outcomes("early", early, query, k, false);
        var c = Outcomes("chronic", chronic, query, k, false);
        var responderRd = Statistics.RiskDifference(e.NprsResponders, c.NprsResponders);

        var clinics = ClinicModels(snapshot, filter, query);
        var network = new ModelSums();
        foreach (var sums in clinics.Values) network.Add(sums);
        var changeModel = AdjustedModel.Fit(network, ModelOutcome.Change);
        var responderModel = AdjustedModel.Fit(network, ModelOutcome.Responder);
        var benchmarksSafe = Suppression.IsSafe(snapshot, query.Restricted | Dimension.Clinic, k, splitsByDuration: false);
        var groupsShown = !e.Suppressed && !c.Suppressed;

        return new CohortComparison(
            snapshot.Sequence, k, false, null,
            e, c,
            Outcomes("acute", bands[(int)PainDuration.Under6], query, k, false),
            Outcomes("subacute", bands[(int)PainDuration.From6To11], query, k, false),
            Statistics.Welch(e.DurableNprsChange, c.DurableNprsChange),
            Statistics.HedgesG(e.DurableNprsChange, c.DurableNprsChange),
            Statistics.Welch(e.NdiChange, c.NdiChange),
            Statistics.Welch(e.OdiChange, c.OdiChange),
            responderRd,
            Statistics.Nnt(responderRd),
            changeModel.EarlyEffect(k, !groupsShown),
            responderModel.EarlyEffect(k, !groupsShown),
            benchmarksSafe
                ? clinics.OrderBy(x => snapshot.Clinics[x.Key], StringComparer.Ordinal)
                    .Select(x => changeModel.Benchmark(snapshot.Clinics[x.Key], x.Value, ModelOutcome.Change, k, false)).ToList()
                : []);
    }

    /// <summary>A comparison is a pure function of the snapshot, the filter and k: computed once per
    /// snapshot, so a study many researchers run, or an IDE re-running it, costs one computation.</summary>
    public static CohortComparison Remembered(CubeSnapshot snapshot, StudyQuery query, int k) =>
        snapshot.Memo($"compare:{k}:{System.Text.Json.JsonSerializer.Serialize(query)}", s => Compare(s, query, k));

    /// <summary>A withheld study: its reason, and nothing derived from the data.</summary>
    public static CohortComparison Withheld(long sequence, int k)
    {
        var none = WithheldOutcomes;
        var difference = new DifferenceEstimate(null, null, null, null, true);
        var adjusted = new AdjustedEstimate(null, null, null, null, null, 0, true);
        return new CohortComparison(sequence, k, true, UnsafeQuery,
            none("early"), none("chronic"), none("acute"), none("subacute"),
            difference, difference, difference, difference, difference, new NntEstimate(null, null, null, false, true),
            adjusted, adjusted, []);
    }

    private static CohortOutcomes WithheldOutcomes(string cohort)
    {
        var mean = new MeanEstimate(null, null, null, null, null, true);
        var proportion = new ProportionEstimate(null, null, null, null, null, true);
        return new CohortOutcomes(cohort, null, true, mean, mean, mean, mean, proportion, proportion, proportion, proportion,
            new SurvivalEstimate(null, null, [], null, null, null, true));
    }

    /// <summary>The matching cells' histograms, one sum per pain-duration band.</summary>
    public static CohortSums[] Bands(CubeSnapshot snapshot, CellFilter filter, StudyQuery query)
    {
        var bands = Enumerable.Range(0, PainDurations.Count).Select(_ => new CohortSums()).ToArray();
        var rule = query.NprsRule;
        var highest = Enumerable.Range(0, 11).Select(rule.HighestImproved).ToArray();
        foreach (var cell in snapshot.TableFor(filter.Restricted | Dimension.Duration).Cells)
        {
            if (cell.Stats.Episodes == 0 || !filter.Matches(cell.Key)) continue;
            bands[(int)PackedKey.Duration(cell.Key)].Add(cell.Stats, highest);
        }
        return bands;
    }

    /// <summary>The model's sums per clinic (by index) over the matching cells.</summary>
    public static Dictionary<int, ModelSums> ClinicModels(CubeSnapshot snapshot, CellFilter filter, StudyQuery query)
    {
        var clinics = new Dictionary<int, ModelSums>();
        var responders = query.NprsRule.Table();
        foreach (var cell in snapshot.TableFor(filter.Restricted | Dimension.Covariates | Dimension.Clinic).Cells)
        {
            if (cell.Stats.Episodes == 0 || !filter.Matches(cell.Key)) continue;
            var clinic = PackedKey.Clinic(cell.Key);
            if (!clinics.TryGetValue(clinic, out var sums)) clinics[clinic] = sums = new ModelSums();
            sums.Add(cell.Key, cell.Stats, Slots.Latest, query.IsEarly(PackedKey.Duration(cell.Key)), responders);
        }
        return clinics;
    }

    public static CohortOutcomes Outcomes(string cohort, CohortSums sums, StudyQuery query, int k, bool suppressAll)
    {
        var limit = suppressAll ? int.MaxValue : k;
        var change = CohortSums.ChangeMoments(sums.Latest);
        var ndi = CohortSums.Histogram(sums.NdiChange, 50);
        var (events, censored) = sums.Survival();

        var suppressed = suppressAll || sums.Episodes < k;
        return new CohortOutcomes(
            cohort,
            suppressed ? null : sums.Episodes,
            suppressed,
            Statistics.Mean(sums.Relief.N, sums.Relief.SumValue, sums.Relief.SumOfSquaresValue, limit),
            Statistics.Mean(change.N, change.Sum, change.SumOfSquares, limit),
            Statistics.Mean(ndi.N, ndi.Sum, ndi.SumOfSquares, limit),
            Statistics.Mean(sums.Odi.N, sums.Odi.SumValue, sums.Odi.SumOfSquaresValue, limit),
            Statistics.Proportion(CohortSums.Pairs(sums.Latest).Where(p => query.NprsResponder(p.Baseline, p.Score)).Sum(p => p.Count), change.N, limit),
            Statistics.Proportion(sums.NdiChange.Skip(50 + query.NdiMcid).Sum(), ndi.N, limit),
            Statistics.Proportion(sums.OdiChangeFloor.Skip(100 + query.OdiMcid).Sum(), sums.Odi.N, limit),
            Statistics.Proportion(sums.Relapsed, sums.FollowedUp, limit),
            Survival.KaplanMeier(events, censored, limit));
    }
}
