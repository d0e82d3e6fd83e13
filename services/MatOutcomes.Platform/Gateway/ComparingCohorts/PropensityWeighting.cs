using GraphQL.Types;
using MatOutcomes.Platform.Gateway.Schema;
using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Platform.Gateway.ComparingCohorts;

public sealed class PropensityWeightingGraphType : ObjectGraphType<WeightedComparison>
{
    public PropensityWeightingGraphType()
    {
        Name = "PropensityWeighting";
        Description = "Early minus chronic by inverse probability of treatment weighting (IPTW), the second estimator beside the " +
                      "regression adjustment: a logistic propensity score of early on region, age band, sex, occupation and baseline " +
                      "NPRS, stabilised weights, and the difference of weighted means over the episodes with a durable change (what " +
                      "the difference would be if both cohorts had the whole study's case mix). When it and the regression disagree, " +
                      "the model's form or the overlap of the cohorts matters: see the balance table and the effective sample sizes.";
        Field(x => x.Suppressed).Description("True when withheld by small-cell suppression (either cohort under k, or the study is withheld).");
        Field<IntGraphType>("n").Description("Episodes weighted (those with a durable change); null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.N);
        Field(x => x.Converged).Description("False when the propensity model's fit did not converge (then no estimate is given).");
        Field<IntGraphType>("parameters").Description("Propensity-model parameters fitted (a level entirely in one cohort has no finite coefficient " +
            "and is left out); null when withheld.").Resolve(c => c.Source.Parameters);
        Field<NonNullGraphType<WeightedDifferenceGraphType>>("durableChange").Description("Weighted difference in mean durable NPRS change.").Resolve(c => c.Source.DurableChange);
        Field<NonNullGraphType<WeightedDifferenceGraphType>>("responders").Description("Weighted difference in the share of NPRS responders at the filter's MCID.").Resolve(c => c.Source.Responders);
        Field<NonNullGraphType<WeightSummaryGraphType>>("early").Description("The early cohort's stabilised weights.").Resolve(c => c.Source.Early);
        Field<NonNullGraphType<WeightSummaryGraphType>>("chronic").Description("The chronic cohort's stabilised weights.").Resolve(c => c.Source.Chronic);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<BalanceRowGraphType>>>>("balance")
            .Description("Covariate balance before and after weighting, one row per level present in the study (every level, withheld, where the release does not publish counts by that covariate) and one for baseline NPRS.")
            .Resolve(c => CohortComparisonGraphType.Counted(c, c.Source.Balance));
    }
}

public sealed class WeightedDifferenceGraphType() : EstimateWithInferenceGraphType("WeightedDifference",
    "A difference of IPTW-weighted (Hájek) means, early minus chronic. Intervals come from the M-estimation sandwich of the propensity " +
    "model's and both means' estimating equations (the estimated propensity score is accounted for). The headline (standardError, " +
    "lower, upper) is the one `inference` names: cluster-robust by clinic when the study spans two clinics or more, else the one " +
    "treating episodes as independent.",
    "Weighted early mean minus weighted chronic mean.",
    "Propensity-model parameters.",
    "Sandwich treating episodes as independent, t on n − parameters − 2 df.",
    "Sandwich of the estimating functions summed per clinic, × clinics / (clinics − 1), t on clinics − 1 df; numbers null with fewer " +
    "than two clinics.");

public sealed class WeightSummaryGraphType : ObjectGraphType<WeightSummary>
{
    public WeightSummaryGraphType()
    {
        Name = "WeightSummary";
        Description = "One cohort's stabilised IPTW weights (P(cohort) / propensity of that cohort).";
        Field(x => x.MeanWeight, nullable: true).Description("Mean stabilised weight: near 1 when the weights are well behaved.");
        Field(x => x.EffectiveEpisodes, nullable: true).Description("Kish's effective sample size, (Σw)² / Σw²: how many unweighted episodes the weighted cohort is worth.");
    }
}

public sealed class BalanceRowGraphType : ObjectGraphType<BalanceRow>
{
    public BalanceRowGraphType()
    {
        Name = "BalanceRow";
        Description = "Standardized mean difference (early minus chronic) of one covariate level before and after weighting, both over the " +
                      "unweighted pooled SD √((s²_early + s²_chronic)/2) with divisor n, so that a change is a change of means. |SMD| < 0.1 " +
                      "is the usual mark of balance. Only SMDs are shown, never a level's count or share; a covariate's rows are withheld (every level listed) " +
                      "unless the release publishes counts at the study's grid with that covariate added.";
        Field(x => x.Covariate).Description("`region`, `ageBand`, `sex`, `occupation` or `baselineNprs`.");
        Field(x => x.Level, nullable: true).Description("The level's wire name (e.g. `low-back`); null for baseline NPRS. Sex levels are pooled as the disclosure rules pool them (`other` and `not-stated` count under `male`).");
        Field(x => x.SmdBefore, nullable: true).Description("SMD before weighting; null when suppressed or the SD is 0.");
        Field(x => x.SmdAfter, nullable: true).Description("SMD after weighting; null when suppressed or the SD is 0.");
        Field(x => x.Suppressed).Description("True when the level holds 1 to k − 1 episodes in either cohort.");
    }
}
