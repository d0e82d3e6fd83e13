namespace MatOutcomes.Tests.Gateway;

/// <summary>Selections of every field of the gateway's statistic types.</summary>
public static class Fragments
{
    public const string Curve = """
        fragment Curve on SurvivalEstimate { n events medianSessions medianLower medianUpper suppressed
          curve { sessions atRisk events censored survival lower upper } }
        """;

    public const string Benchmark = """
        fragment Benchmark on ClinicBenchmark { clinic n observed expected observedMinusExpected lower upper suppressed }
        """;

    public const string Comparison = Curve + Benchmark + """
        fragment Mean on MeanEstimate { n mean sd lower upper suppressed }
        fragment Prop on ProportionEstimate { n count proportion lower upper suppressed }
        fragment Diff on DifferenceEstimate { estimate lower upper degreesOfFreedom suppressed }
        fragment Adj on AdjustedDifference { estimate standardError lower upper n parameters suppressed }
        fragment Cohort on CohortOutcomes { cohort patients suppressed
          immediateRelief { ...Mean } durableNprsChange { ...Mean } ndiChange { ...Mean } odiChange { ...Mean }
          nprsResponders { ...Prop } ndiResponders { ...Prop } odiResponders { ...Prop } relapseAtFollowUp { ...Prop }
          sessionsToMcid { ...Curve } }
        fragment Comparison on CohortComparison { sequence k suppressed suppressionReason
          early { ...Cohort } chronic { ...Cohort } acute { ...Cohort } subacute { ...Cohort }
          durableChangeDifference { ...Diff } durableChangeHedgesG { ...Diff } ndiChangeDifference { ...Diff }
          odiChangeDifference { ...Diff } responderRiskDifference { ...Diff }
          numberNeededToTreat { estimate lower upper ciIncludesInfinity suppressed }
          adjustedDurableChangeDifference { ...Adj } adjustedResponderDifference { ...Adj }
          benchmarks { ...Benchmark } }
        """;

    public const string Row = """
        fragment Row on EpisodeRow { cohort status durationWeeksFrom durationWeeksBelow clinic region occupation ageBand sex format
          startQuarter startYear baselineNprs latestNprs durableNprsChange nprsResponder sessions sessionsToMcid
          immediateRelief ndiChange odiChange followedUp relapsed generalizationLevel withheld }
        """;
}
