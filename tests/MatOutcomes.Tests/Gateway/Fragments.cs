namespace MatOutcomes.Tests.Gateway;

/// <summary>Selections of every field of the gateway's statistic types.</summary>
public static class Fragments
{
    public const string Curve = """
        fragment Curve on SurvivalEstimate { n events medianSessions medianLower medianUpper medianSessionsStep suppressed
          curve { sessions atRisk events censored survival lower upper } }
        """;

    public const string Benchmark = """
        fragment Benchmark on ClinicBenchmark { clinic n observed expected observedMinusExpected lower upper suppressed }
        """;

    public const string Comparison = Curve + Benchmark + """
        fragment Mean on MeanEstimate { n mean sd lower upper suppressed }
        fragment Prop on ProportionEstimate { n count proportion lower upper suppressed }
        fragment Diff on DifferenceEstimate { estimate lower upper degreesOfFreedom suppressed }
        fragment Adj on AdjustedDifference { estimate standardError lower upper n parameters suppressed inference
          classical { ...Inference } clusterRobust { ...Inference } }
        fragment Inference on InferenceInterval { standardError lower upper degreesOfFreedom clusters suppressed }
        fragment Cohort on CohortOutcomes { cohort episodes suppressed
          immediateRelief { ...Mean } durableNprsChange { ...Mean } ndiChange { ...Mean } odiChange { ...Mean }
          nprsResponders { ...Prop } ndiResponders { ...Prop } odiResponders { ...Prop } relapseAtFollowUp { ...Prop }
          sessionsToMcid { ...Curve }
          atDischarge { ...TimePoint } atFollowUp { ...TimePoint } }
        fragment TimePoint on TimePointOutcomes { nprsChange { ...Mean } nprsResponders { ...Prop }
          weeksAfterDischarge { n lowerQuartile median upperQuartile suppressed } }
        fragment TimePointDiff on TimePointDifferences { nprsChange { ...Diff } nprsResponders { ...Diff } }
        fragment Comparison on CohortComparison { sequence k suppressed suppressionReason
          early { ...Cohort } chronic { ...Cohort } acute { ...Cohort } subacute { ...Cohort }
          durableChangeDifference { ...Diff } durableChangeHedgesG { ...Diff } ndiChangeDifference { ...Diff }
          odiChangeDifference { ...Diff } responderRiskDifference { ...Diff }
          numberNeededToTreat { estimate lower upper ciIncludesInfinity suppressed }
          adjustedDurableChangeDifference { ...Adj } adjustedResponderDifference { ...Adj }
          benchmarks { ...Benchmark }
          atDischargeDifference { ...TimePointDiff } atFollowUpDifference { ...TimePointDiff }
          propensityWeighted { suppressed n converged parameters durableChange { ...Weighted } responders { ...Weighted }
            early { meanWeight effectiveEpisodes } chronic { meanWeight effectiveEpisodes }
            balance { covariate level smdBefore smdAfter suppressed } } }
        fragment Weighted on WeightedDifference { estimate standardError lower upper n parameters suppressed inference
          classical { ...Inference } clusterRobust { ...Inference } }
        """;

    public const string Row = """
        fragment Row on EpisodeRow { cohort status durationWeeksFrom durationWeeksBelow clinic region occupation ageBand sex format
          startQuarter startYear baselineNprs latestNprs durableNprsChange nprsResponder sessions sessionsToMcid
          immediateRelief ndiChange odiChange followedUp relapsed generalizationLevel withheld }
        """;
}
