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
        Field<IntGraphType>("n").Description("Patients with the measure; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.N);
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
        Field<IntGraphType>("n").Description("Patients in the denominator; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.N);
        Field<IntGraphType>("count").Description("Patients in the numerator; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.Count);
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

public sealed class AdjustedEstimateGraphType : ObjectGraphType<AdjustedEstimate>
{
    public AdjustedEstimateGraphType()
    {
        Name = "AdjustedDifference";
        Description = "Early minus chronic adjusted for baseline NPRS, region, age band, sex and occupation (least squares over all " +
                      "patients of the study, fitted from the cells), with its 95% t interval.";
        Field(x => x.Estimate, nullable: true).Description("The adjusted early-versus-chronic coefficient.");
        Field(x => x.StandardError, nullable: true).Description("Its standard error.");
        Field(x => x.Lower, nullable: true).Description("Lower bound of the 95% confidence interval.");
        Field(x => x.Upper, nullable: true).Description("Upper bound of the 95% confidence interval.");
        Field<IntGraphType>("n").Description("Patients in the model; null when suppressed.").Resolve(c => c.Source.Suppressed ? null : (int?)c.Source.N);
        Field<IntGraphType>("parameters").Description("Parameters fitted (columns of the design with data); null when withheld.")
            .Resolve(c => c.Source.Parameters);
        Field(x => x.Suppressed).Description("True when withheld by small-cell suppression or when the model cannot be fitted.");
    }
}
