using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Releasing;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>One cohort's outcomes. <see cref="Episodes"/> counts episodes of care, not people: one
/// patient may have several episodes.</summary>
public sealed record CohortOutcomes(
    string Cohort,
    long? Episodes,
    bool Suppressed,
    MeanEstimate ImmediateRelief,
    MeanEstimate DurableNprsChange,
    MeanEstimate NdiChange,
    MeanEstimate OdiChange,
    ProportionEstimate NprsResponders,
    ProportionEstimate NdiResponders,
    ProportionEstimate OdiResponders,
    ProportionEstimate RelapseAtFollowUp,
    SurvivalEstimate SessionsToMcid,
    TimePointOutcomes AtDischarge,
    TimePointOutcomes AtFollowUp);

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
    IReadOnlyList<ClinicBenchmark> Benchmarks,
    IReadOnlyList<WithheldMeasure> Withheld,
    TimePointDifferences AtDischargeDifference,
    TimePointDifferences AtFollowUpDifference,
    WeightedComparison PropensityWeighted);

/// <summary>A measure whose figures a study leaves out, and why (see <see cref="Disclosure"/>).</summary>
public sealed record WithheldMeasure(Measure Measure, string Reason);

/// <summary>Every study statistic from summed cells: O(cells of the smallest table that keeps what the
/// study restricts), whatever the number of events. Suppression is decided first, from counts; a
/// withheld study computes nothing and carries nothing but its reason.</summary>
public static class StudyCalculator
{
    public const string UnsafeQuery = Disclosure.InSpace;

    /// <summary>Compares on a snapshot decided on its own (tests, as-of checks): a first release.</summary>
    public static CohortComparison Compare(CubeSnapshot snapshot, StudyQuery query, int k) =>
        Compare(snapshot, Disclosure.DecideAsync(1, snapshot, null, _ => throw new InvalidOperationException(), k).GetAwaiter().GetResult(), query, k);

    public static CohortComparison Compare(CubeSnapshot snapshot, Disclosure disclosure, StudyQuery query, int k)
    {
        query = query.Effective;
        var restricted = query.Restricted;
        if (!disclosure.Allows(restricted, Measure.Episodes))
            return Withheld(snapshot.Sequence, k, disclosure.Reason(restricted, Measure.Episodes)!);

        var withheld = Measures.All.Where(m => !disclosure.Allows(restricted, m))
            .Select(m => new WithheldMeasure(m, disclosure.Reason(restricted, m)!)).ToList();
        var shown = Measures.All.Where(m => disclosure.Allows(restricted, m)).ToHashSet();

        var filter = new CellFilter(query, snapshot);
        var bands = Bands(snapshot, filter, query);
        var early = CohortSums.Of(bands.Where((_, band) => query.IsEarly((PainDuration)band)));
        var chronic = CohortSums.Of(bands.Where((_, band) => !query.IsEarly((PainDuration)band)));

        var e = Outcomes("early", early, query, k, shown);
        var c = Outcomes("chronic", chronic, query, k, shown);
        var responderRd = Statistics.RiskDifference(e.NprsResponders, c.NprsResponders);

        var latest = shown.Contains(Measure.Latest);
        var groupsShown = latest && !e.DurableNprsChange.Suppressed && !c.DurableNprsChange.Suppressed;
        // The propensity weighting (withheld with the groups it compares) needs nothing from the
        // regression below and costs about as much: on a second core it halves one researcher's wait.
        // When every core is busy, the wait at the end finds it still queued and runs it on this
        // thread (Task.Wait inlines an unstarted task).
        var weighted = groupsShown
            ? Task.Run(() => Weighting.Compare(snapshot, filter, query, k,
                covariate => disclosure.Allows(restricted | covariate, Measure.Latest)))
            : Task.FromResult(WeightedComparison.Withheld);
        var clinics = latest ? ClinicModels(snapshot, filter, query) : [];
        var network = new ModelSums();
        foreach (var sums in clinics.Values) network.Add(sums);
        var changeModel = AdjustedModel.Fit(network, ModelOutcome.Change);
        var responderModel = AdjustedModel.Fit(network, ModelOutcome.Responder);
        var effects = AdjustedModel.EarlyEffects([changeModel, responderModel], k, !groupsShown, ByClinicId(snapshot, clinics),
            (key, leverage) => snapshot.Design(key, _ => leverage()));
        var benchmarked = disclosure.BenchmarkedClinics(restricted);

        return new CohortComparison(
            snapshot.Sequence, k, false, null,
            e, c,
            Outcomes("acute", bands[(int)PainDuration.Under6], query, k, shown),
            Outcomes("subacute", bands[(int)PainDuration.From6To11], query, k, shown),
            Statistics.Welch(e.DurableNprsChange, c.DurableNprsChange),
            Statistics.HedgesG(e.DurableNprsChange, c.DurableNprsChange),
            Statistics.Welch(e.NdiChange, c.NdiChange),
            Statistics.Welch(e.OdiChange, c.OdiChange),
            responderRd,
            Statistics.Nnt(responderRd),
            effects[0],
            effects[1],
            groupsShown
                ? clinics.Where(x => benchmarked.Contains(snapshot.Clinics[x.Key]))
                    .OrderBy(x => snapshot.Clinics[x.Key], StringComparer.Ordinal)
                    .Select(x => changeModel.Benchmark(snapshot.Clinics[x.Key], x.Value, ModelOutcome.Change, k, false)).ToList()
                : [],
            withheld,
            TimePoints.Difference(e.AtDischarge, c.AtDischarge),
            TimePoints.Difference(e.AtFollowUp, c.AtFollowUp),
            weighted.GetAwaiter().GetResult());
    }

    /// <summary>A comparison is a pure function of the snapshot, the filter and k: computed once per
    /// snapshot, so a study many researchers run, or an IDE re-running it, costs one computation.</summary>
    public static CohortComparison Remembered(CubeSnapshot snapshot, Disclosure disclosure, StudyQuery query, int k) =>
        snapshot.Remember($"compare:{k}:{System.Text.Json.JsonSerializer.Serialize(query)}", s => Compare(s, disclosure, query, k));

    /// <summary>A withheld study: its reason, and nothing derived from the data.</summary>
    public static CohortComparison Withheld(long sequence, int k, string reason = UnsafeQuery)
    {
        var none = WithheldOutcomes;
        var difference = new DifferenceEstimate(null, null, null, null, true);
        var adjusted = AdjustedEstimate.Withheld;
        return new CohortComparison(sequence, k, true, reason,
            none("early"), none("chronic"), none("acute"), none("subacute"),
            difference, difference, difference, difference, difference, new NntEstimate(null, null, null, false, true),
            adjusted, adjusted, [], [], TimePoints.WithheldDifferences, TimePoints.WithheldDifferences, WeightedComparison.Withheld);
    }

    private static CohortOutcomes WithheldOutcomes(string cohort)
    {
        var mean = new MeanEstimate(null, null, null, null, null, true);
        var proportion = new ProportionEstimate(null, null, null, null, null, true);
        return new CohortOutcomes(cohort, null, true, mean, mean, mean, mean, proportion, proportion, proportion, proportion,
            new SurvivalEstimate(null, null, [], null, null, null, true), TimePoints.Withheld(false), TimePoints.Withheld(true));
    }

    /// <summary>The matching cells' histograms, one sum per pain-duration band.</summary>
    public static CohortSums[] Bands(CubeSnapshot snapshot, CellFilter filter, StudyQuery query)
    {
        var bands = Enumerable.Range(0, PainDurations.Count).Select(_ => new CohortSums()).ToArray();
        var rule = query.NprsRule;
        var highest = Enumerable.Range(0, 11).Select(rule.HighestImproved).ToArray();
        var table = snapshot.Flat(snapshot.TableFor(filter.Restricted | Dimension.Duration));
        for (var i = 0; i < table.Count; i++)
        {
            if (table.Episodes[i] == 0 || !filter.Matches(table.Keys[i])) continue;
            bands[(int)PackedKey.Duration(table.Keys[i])].Add(table, i, highest);
        }
        return bands;
    }

    /// <summary>The model's sums per clinic (by index) over the matching cells.</summary>
    public static Dictionary<int, ModelSums> ClinicModels(CubeSnapshot snapshot, CellFilter filter, StudyQuery query) =>
        ModelDesign.ClinicSums(snapshot, filter, query);

    /// <summary>Per-clinic sums in clinic id order: the cluster-robust sums of doubles then add up in
    /// the same order live and in an as-of replay (where clinic indexes may differ), bit for bit.</summary>
    public static IReadOnlyList<ModelSums> ByClinicId(CubeSnapshot snapshot, Dictionary<int, ModelSums> clinics) =>
        [.. clinics.OrderBy(x => snapshot.Clinics[x.Key], StringComparer.Ordinal).Select(x => x.Value)];

    /// <summary>A cohort's figures; each measure not in <paramref name="shown"/> is withheld whole.</summary>
    public static CohortOutcomes Outcomes(string cohort, CohortSums sums, StudyQuery query, int k, IReadOnlySet<Measure> shown)
    {
        int Limit(Measure measure) => shown.Contains(measure) ? k : int.MaxValue;
        var change = CohortSums.ChangeMoments(sums.Latest);
        var ndi = CohortSums.Histogram(sums.NdiChange, 50);
        var (events, censored) = sums.Survival();

        var suppressed = sums.Episodes < Limit(Measure.Episodes);
        return new CohortOutcomes(
            cohort,
            suppressed ? null : sums.Episodes,
            suppressed,
            Statistics.Mean(sums.Relief.N, sums.Relief.SumValue, sums.Relief.SumOfSquaresValue, Limit(Measure.Relief)),
            Statistics.Mean(change.N, change.Sum, change.SumOfSquares, Limit(Measure.Latest)),
            Statistics.Mean(ndi.N, ndi.Sum, ndi.SumOfSquares, Limit(Measure.Ndi)),
            Statistics.Mean(sums.Odi.N, sums.Odi.SumValue, sums.Odi.SumOfSquaresValue, Limit(Measure.Odi)),
            Statistics.Proportion(CohortSums.Pairs(sums.Latest).Where(p => query.NprsResponder(p.Baseline, p.Score)).Sum(p => p.Count), change.N, Limit(Measure.Latest)),
            Statistics.Proportion(sums.NdiChange.Skip(50 + query.NdiMcid).Sum(), ndi.N, Limit(Measure.Ndi)),
            Statistics.Proportion(sums.OdiChangeFloor.Skip(100 + query.OdiMcid).Sum(), sums.Odi.N, Limit(Measure.Odi)),
            Statistics.Proportion(sums.Relapsed, sums.FollowedUp, Limit(Measure.Relapse)),
            Survival.KaplanMeier(events, censored, Limit(Measure.Episodes)),
            TimePoints.AtDischarge(sums, query, Limit(Measure.Discharge)),
            TimePoints.AtFollowUp(sums, query, Limit(Measure.FollowUp)));
    }
}
