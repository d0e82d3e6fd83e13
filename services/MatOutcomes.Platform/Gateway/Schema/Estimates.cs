using GraphQL.Types;
using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Platform.Gateway.Schema;

// Counts behind a suppressed figure are withheld too (null): a count under k is itself a small cell.

public sealed class MeanEstimateGraphType : ObjectGraphType<MeanEstimate>
{
    public MeanEstimateGraphType()
    {
        Name = "MeanEstimate";
        Description = "A mean with its standard deviation and 95% t confidence interval. All numbers are null when fewer than k patients stand behind it.";
        Field<IntGraphType>("n").Description("Episodes with the measure (episodes of care, not people); null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.N);
        Field(x => x.Mean, nullable: true).Description("Sample mean.");
        Field(x => x.Sd, nullable: true).Description("Sample standard deviation (n − 1).");
        Field(x => x.Lower, nullable: true).Description("Lower bound of the 95% confidence interval.");
        Field(x => x.Upper, nullable: true).Description("Upper bound of the 95% confidence interval.");
        Field(x => x.Suppressed).Description("True when withheld by small-cell suppression (fewer than k patients, or an unsafe study).");
    }
}

public sealed class ProportionEstimateGraphType : ObjectGraphType<ProportionEstimate>
{
    public ProportionEstimateGraphType()
    {
        Name = "ProportionEstimate";
        Description = "A proportion with its 95% Wilson score interval; null numbers when suppressed.";
        Field<IntGraphType>("n").Description("Episodes in the denominator; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.N);
        Field<IntGraphType>("count").Description("Episodes in the numerator; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.Count);
        Field(x => x.Proportion, nullable: true).Description("count / n.");
        Field(x => x.Lower, nullable: true).Description("Lower bound of the 95% Wilson interval.");
        Field(x => x.Upper, nullable: true).Description("Upper bound of the 95% Wilson interval.");
        Field(x => x.Suppressed).Description("True when withheld by small-cell suppression.");
    }
}

public sealed class DifferenceEstimateGraphType : ObjectGraphType<DifferenceEstimate>
{
    public DifferenceEstimateGraphType()
    {
        Name = "DifferenceEstimate";
        Description = "A difference between cohorts (early minus chronic) with its 95% confidence interval: Welch for means, " +
                      "Hedges' g for standardized means, Newcombe's hybrid score interval for risk differences.";
        Field(x => x.Estimate, nullable: true).Description("Point estimate (early minus chronic).");
        Field(x => x.Lower, nullable: true).Description("Lower bound of the 95% confidence interval.");
        Field(x => x.Upper, nullable: true).Description("Upper bound of the 95% confidence interval.");
        Field(x => x.DegreesOfFreedom, nullable: true).Description("Welch–Satterthwaite degrees of freedom (Welch differences only).");
        Field(x => x.Suppressed).Description("True when either cohort is withheld by small-cell suppression.");
    }
}

public sealed class NntEstimateGraphType : ObjectGraphType<NntEstimate>
{
    public NntEstimateGraphType()
    {
        Name = "NumberNeededToTreat";
        Description = "Number needed to treat early rather than chronic for one more responder (1 / risk difference). When the risk " +
                      "difference's CI spans zero the NNT's CI runs through infinity (Altman 1998): from lower (benefit) to ∞ to upper (harm).";
        Field(x => x.Estimate, nullable: true).Description("1 / risk difference.");
        Field(x => x.Lower, nullable: true).Description("Lower bound (see ciIncludesInfinity).");
        Field(x => x.Upper, nullable: true).Description("Upper bound (see ciIncludesInfinity).");
        Field(x => x.CiIncludesInfinity).Description("True when the interval runs from lower through infinity to upper.");
        Field(x => x.Suppressed).Description("True when withheld by small-cell suppression.");
    }
}

/// <summary>An early-minus-chronic estimate with a classical and a cluster-robust interval, the
/// headline being the one <c>inference</c> names; the regression and the weighting say in their
/// own words what the estimate and the intervals are.</summary>
public abstract class EstimateWithInferenceGraphType : ObjectGraphType<AdjustedEstimate>
{
    protected EstimateWithInferenceGraphType(string name, string description, string estimate, string parameters, string classical, string clusterRobust)
    {
        Name = name;
        Description = description;
        Field(x => x.Estimate, nullable: true).Description(estimate);
        Field(x => x.StandardError, nullable: true).Description("Its standard error, by the headline method.");
        Field(x => x.Lower, nullable: true).Description("Lower bound of the headline 95% confidence interval.");
        Field(x => x.Upper, nullable: true).Description("Upper bound of the headline 95% confidence interval.");
        Field<IntGraphType>("n").Description("Episodes in the estimate; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.N);
        Field<IntGraphType>("parameters").Description(parameters + " Null when withheld.").Resolve(c => c.Source.Parameters);
        Field(x => x.Suppressed).Description("True when withheld by small-cell suppression or when the model cannot be fitted.");
        Field<InferenceMethodGraphType>("inference").Description("Which interval the headline standardError, lower and upper are; null when suppressed.")
            .Resolve(c => c.Source.Inference);
        Field<NonNullGraphType<InferenceIntervalGraphType>>("classical").Description(classical).Resolve(c => c.Source.Classical);
        Field<NonNullGraphType<InferenceIntervalGraphType>>("clusterRobust").Description(clusterRobust).Resolve(c => c.Source.ClusterRobust);
    }
}

public sealed class AdjustedEstimateGraphType() : EstimateWithInferenceGraphType("AdjustedDifference",
    "Early minus chronic adjusted for baseline NPRS, region, age band, sex and occupation (least squares over all episodes of the " +
    "study, fitted from the cells). The headline interval (standardError, lower, upper) is the one `inference` names: cluster-robust " +
    "by clinic (CR2, t on clinics − 1 df) when the study spans two clinics or more, classical when it spans one. Both are given in full.",
    "The adjusted early-versus-chronic coefficient.",
    "Parameters fitted (columns of the design with data).",
    "Classical OLS standard error and t interval on n − parameters df: assumes independent episodes with equal variance.",
    "Cluster-robust by clinic: CR2 (Bell–McCaffrey) standard error, t interval on clinics − 1 df; allows episodes of one clinic to be " +
    "correlated and variances to differ. Numbers are null when the study spans fewer than two clinics.");

public sealed class InferenceMethodGraphType() : WireEnumGraphType<InferenceKind>("InferenceMethod",
    "How a confidence interval was made.", new Dictionary<InferenceKind, string>
    {
        [InferenceKind.Classical] = "Classical standard error (independent episodes, equal variance).",
        [InferenceKind.ClusterRobust] = "Cluster-robust by clinic (CR2 / Bell–McCaffrey, t on clinics − 1 df).",
    });

public sealed class InferenceIntervalGraphType : ObjectGraphType<Inference>
{
    public InferenceIntervalGraphType()
    {
        Name = "InferenceInterval";
        Description = "A standard error and 95% t confidence interval by one method.";
        Field(x => x.StandardError, nullable: true).Description("Standard error.");
        Field(x => x.Lower, nullable: true).Description("Lower bound of the 95% confidence interval.");
        Field(x => x.Upper, nullable: true).Description("Upper bound of the 95% confidence interval.");
        Field(x => x.DegreesOfFreedom, nullable: true).Description("Degrees of freedom of the t quantile.");
        Field(x => x.Clusters, nullable: true).Description("Clinics (clusters) with episodes in the model, for a cluster-robust interval; null for a classical one or when suppressed.");
        Field(x => x.Suppressed).Description("True when withheld by small-cell suppression.");
    }
}
