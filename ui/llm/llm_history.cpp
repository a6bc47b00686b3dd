// The list of measured language-model settings (see llm_history.h).
#include "ui/llm/llm_history.h"

#include <limits>

#include "ui/settings/evaluation_history.h"

namespace cwb::ui {

LlmHistory::LlmHistory(QObject* parent) : QObject(parent) {}

int LlmHistory::indexOf(const LlmCompression& compression) const {
    for (int i = 0; i < m_points.size(); ++i)
        if (sameCompression(m_points[i].compression, compression)) return i;
    return -1;
}

void LlmHistory::add(const LlmPoint& point) {
    const int i = indexOf(point.compression);
    if (i >= 0) {
        if (m_points[i].stats.scored > point.stats.scored) return;
        m_points[i] = point;
    } else {
        m_points.append(point);
    }
    emit changed();
}

void LlmHistory::clear() {
    m_points.clear();
    emit changed();
}

QVector<int> LlmHistory::paretoFront() const {
    QVector<double> sizes, scores;
    for (const LlmPoint& p : m_points) {
        sizes.append(p.sizeBytes);
        scores.append(-p.stats.perplexity);
    }
    return paretoFrontOf(sizes, scores);
}

CsvWriter LlmHistory::table() const {
    CsvWriter csv;
    csv.row({"compression",
             "alpha",
             "rho",
             "bits",
             "format",
             "scope",
             "bits_per_weight",
             "size_bytes",
             "chunks",
             "scored_tokens",
             "perplexity",
             "perplexity_error",
             "low95",
             "high95",
             "mean_kl",
             "kl_error",
             "same_top",
             "same_top_error",
             "prefill_tokens_per_s",
             "generate_tokens_per_s",
             "source"});
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (const LlmPoint& p : m_points) {
        const LlmCompression& c = p.compression;
        const PerplexityStats& s = p.stats;
        csv.text(describeCompression(c).toStdString());
        csv.number(c.settings.quant.alpha, 7).number(c.settings.prune.rho, 7);
        csv.integer(c.settings.quant.bits);
        csv.text(c.format ? dtypeName(*c.format) : std::string());
        csv.text(c.format ? (c.scope == LlmScope::All ? "all" : "blocks") : "");
        csv.number(p.bitsPerWeight).number(p.sizeBytes, 12);
        csv.integer(s.chunks).integer(s.scored);
        csv.number(s.perplexity).number(s.perplexityError).number(s.low).number(s.high);
        csv.number(s.hasKl ? s.meanKl : nan).number(s.hasKl ? s.klError : nan);
        csv.number(s.hasKl ? s.sameTop : nan).number(s.hasKl ? s.sameTopError : nan);
        csv.number(p.prefillTokensPerSecond > 0 ? p.prefillTokensPerSecond : nan);
        csv.number(p.generateTokensPerSecond > 0 ? p.generateTokensPerSecond : nan);
        csv.text(p.original ? "original" : p.fromSweep ? "sweep" : "setting");
        csv.endRow();
    }
    return csv;
}

}  // namespace cwb::ui
