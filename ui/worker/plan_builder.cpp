// Settings -> CompressionPlan (see plan_builder.h).
#include "ui/worker/plan_builder.h"

namespace cwb::ui {

QStringList granularityChoices() {
    QStringList out;
    out << QString::fromStdString(granularityName(Granularity::Tensor, 0))
        << QString::fromStdString(granularityName(Granularity::Channel, 0));
    for (int g : {32, 64, 128})
        out << QString::fromStdString(granularityName(Granularity::Group, g));
    return out;
}

QStringList schemeChoices() { return {QStringLiteral("symmetric"), QStringLiteral("asymmetric")}; }

CompressionPlan toPlan(const CompressionSettings& s) {
    CompressionPlan plan;
    auto& q = plan.defaults.quant;
    q.alpha = static_cast<float>(s.alpha);
    q.bits = s.bits;
    if (s.bits > 0) {  // granularity and scheme only mean something with a bit width
        for (int g : {32, 64, 128})
            if (s.granularity == QString::fromStdString(granularityName(Granularity::Group, g))) {
                q.granularity = Granularity::Group;
                q.groupSize = g;
            }
        if (s.granularity == QString::fromStdString(granularityName(Granularity::Channel, 0)))
            q.granularity = Granularity::Channel;
        q.scheme = s.scheme == QLatin1String("asymmetric") ? QuantScheme::Asymmetric
                                                           : QuantScheme::Symmetric;
    }
    auto& p = plan.defaults.prune;
    p.method = s.textbookRho ? PruneMethod::TextbookThreshold : PruneMethod::Threshold;
    p.rho = static_cast<float>(s.rho);
    for (auto it = s.overrides.begin(); it != s.overrides.end(); ++it)
        if (it.value() == LayerMode::KeepFloat) {
            cwb::LayerOverride o;
            o.layer = it.key().toStdString();
            o.keepFloat = true;
            plan.overrides.push_back(o);
        }
    plan.onlyLayer = s.onlyLayer.toStdString();
    return plan;
}

}  // namespace cwb::ui
