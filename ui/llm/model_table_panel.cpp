// The whole-model table (see model_table_panel.h).
#include "ui/llm/model_table_panel.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>

#include "core/error.h"
#include "core/util/csv.h"
#include "ui/worker/llm_measure_job.h"

namespace cwb::ui {

namespace {

constexpr int kSortValue = Qt::UserRole + 2;
// Leading columns before the formats'.
enum Lead { TensorColumn, ShapeColumn, StoredColumn, LeadCount };

// The formats a new table shows: from near-lossless to the smallest.
const std::vector<DType> kDefaultFormats = {DType::Q8_0, DType::Q6_K, DType::Q5_K, DType::Q4_K,
                                            DType::Q4_0, DType::Q3_K, DType::Q2_K};

QStandardItem* item(const QString& text, double sortValue) {
    auto* it = new QStandardItem(text);
    it->setEditable(false);
    it->setData(sortValue, kSortValue);
    return it;
}

QString shapeText(const Shape& shape) {
    QStringList parts;
    for (auto d : shape) parts << QString::number(d);
    return parts.join(QStringLiteral(" \u00d7 "));
}

QString sqnrText(double db) {
    if (std::isnan(db)) return QStringLiteral("\u2014");
    if (std::isinf(db)) return QObject::tr("exact");
    return QStringLiteral("%1 dB").arg(db, 0, 'f', 1);
}

}  // namespace

ModelTablePanel::ModelTablePanel(LlmController* controller, QWidget* parent)
    : QWidget(parent), m_controller(controller), m_formats(kDefaultFormats) {
    m_model = new QStandardItemModel(this);
    m_view = new QTableView(this);
    m_view->setObjectName("modelTable");
    m_view->setModel(m_model);
    m_view->setSortingEnabled(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->verticalHeader()->setVisible(false);
    m_view->horizontalHeader()->setDefaultAlignment(Qt::AlignCenter);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setStretchLastSection(false);
    m_view->horizontalHeader()->setMinimumSectionSize(60);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->setWordWrap(false);
    auto* sorter = new QSortFilterProxyModel(this);  // sorts by value, not by text
    sorter->setSourceModel(m_model);
    sorter->setSortRole(kSortValue);
    m_view->setModel(sorter);

    m_formatsButton = new QToolButton(this);
    m_formatsButton->setText(tr("Formats"));
    m_formatsButton->setPopupMode(QToolButton::InstantPopup);
    auto* menu = new QMenu(m_formatsButton);
    for (const std::string& name : llmFormatNames()) {
        QAction* a = menu->addAction(QString::fromStdString(name));
        a->setCheckable(true);
        DType type{};
        parseDType(name, type);
        a->setData(int(type));
        a->setChecked(std::find(m_formats.begin(), m_formats.end(), type) != m_formats.end());
        connect(a, &QAction::toggled, this, [this, menu] {
            std::vector<DType> chosen;
            for (QAction* x : menu->actions())
                if (x->isChecked() && x->data().isValid())
                    chosen.push_back(DType(x->data().toInt()));
            setFormats(chosen);
        });
    }
    menu->addSeparator();
    QAction* settingsColumn = menu->addAction(tr("\u03b1 and \u03c1 of the settings"));
    settingsColumn->setCheckable(true);
    settingsColumn->setChecked(m_withSettings);
    settingsColumn->setToolTip(
        tr("A column for the window's own scheme as set when the table "
           "is computed, where it changes the weights"));
    connect(settingsColumn, &QAction::toggled, this, &ModelTablePanel::setSettingsColumn);
    m_formatsButton->setMenu(menu);
    m_start = new QPushButton(tr("Compute table"), this);
    m_start->setObjectName("modelTableStart");
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setEnabled(false);
    m_export = new QPushButton(tr("Export CSV\u2026"), this);
    m_export->setEnabled(false);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    m_status = new QLabel(this);
    m_status->setObjectName("modelTableStatus");

    auto* bar = new QHBoxLayout;
    bar->addWidget(m_formatsButton);
    bar->addWidget(m_start);
    bar->addWidget(m_cancel);
    bar->addWidget(m_progress, 1);
    bar->addWidget(m_export);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_status);

    connect(m_start, &QPushButton::clicked, this, &ModelTablePanel::start);
    connect(m_cancel, &QPushButton::clicked, this, &ModelTablePanel::cancel);
    connect(m_export, &QPushButton::clicked, this, &ModelTablePanel::exportInteractive);
    connect(m_controller, &LlmController::tableRow, this, &ModelTablePanel::addRow);
    connect(m_controller, &LlmController::tableProgress, this, [this](qint64 done, qint64 total) {
        m_progress->setValue(int(1000 * done / std::max<qint64>(1, total)));
    });
    connect(m_controller, &LlmController::tableFinished, this, &ModelTablePanel::onFinished);
    reset();
}

void ModelTablePanel::setFormats(const std::vector<DType>& formats) { m_formats = formats; }

void ModelTablePanel::setSettingsColumn(bool on) { m_withSettings = on; }

void ModelTablePanel::reset() {
    m_rows.clear();
    m_running = m_formats;
    m_runningSettings.reset();
    LlmCompression own;  // alpha, rho, k-bit: the column where they change something
    own.settings = m_controller->settings().plan.defaults;
    if (m_withSettings && !changesNothing(own)) {
        m_runningSettings = own.settings;
        m_settingsLabel = describeCompression(own);
    }
    m_model->clear();
    QStringList headers{tr("Tensor"), tr("Shape"), tr("Stored")};
    for (DType f : m_running) {
        // Bits per weight are the format's for every tensor whose rows are whole blocks.
        const double bits = 8.0 * double(dtypeBlockBytes(f)) / double(dtypeBlockSize(f));
        headers << tr("%1\n%2 bpw").arg(QString::fromStdString(dtypeName(f))).arg(bits, 0, 'f', 2);
    }
    if (m_runningSettings) headers << tr("%1\nsettings").arg(m_settingsLabel);
    m_model->setHorizontalHeaderLabels(headers);
    // The formats share what the tensor's name, shape and size leave.
    for (int c = LeadCount; c < m_model->columnCount(); ++c)
        m_view->horizontalHeader()->setSectionResizeMode(c, QHeaderView::Stretch);
    m_progress->setValue(0);
    m_export->setEnabled(false);
    const auto session = m_controller->session();
    m_start->setEnabled(bool(session));
    m_status->setText(session ? tr("SQNR of every 2-D tensor under each format; the last row is "
                                   "the whole model. Compute fills it tensor by tensor.")
                              : QString());
}

void ModelTablePanel::start() {
    if (!m_controller->session()) return;
    reset();
    if (columns() == 0) return;
    m_start->setEnabled(false);
    m_cancel->setEnabled(true);
    m_status->setText(tr("computing\u2026"));
    m_controller->startTable(m_running, m_runningSettings);
}

void ModelTablePanel::cancel() { m_controller->cancelTable(); }

void ModelTablePanel::addRow(const LlmTableRow& row) {
    const auto session = m_controller->session();
    if (!session || row.role < 0 || row.role >= int(session->roles.size())) return;
    if (int(row.cells.size()) != columns()) return;
    m_rows.push_back(row);
    const LlamaTensorRole& r = session->roles[std::size_t(row.role)];
    const Tensor& t = *r.tensor;
    const QLocale locale;
    QList<QStandardItem*> items;
    auto* name = item(QString::fromStdString(r.fileName), row.role);
    name->setToolTip(QString::fromStdString(r.llamaName));
    items << name << item(shapeText(t.shape()), double(t.elements()))
          << item(tr("%1, %2")
                      .arg(QString::fromStdString(dtypeName(t.dtype())))
                      .arg(locale.formattedDataSize(qint64(t.byteSize()))),
                  double(t.byteSize()));
    for (std::size_t k = 0; k < row.cells.size(); ++k) {
        const LlmSchemeCell& c = row.cells[k];
        auto* it = item(sqnrText(c.sqnrDb), std::isnan(c.sqnrDb)   ? -1e9
                                            : std::isinf(c.sqnrDb) ? 1e9
                                                                   : c.sqnrDb);
        it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        if (!std::isnan(c.sqnrDb))
            it->setToolTip(tr("%1 bits/weight, %2")
                               .arg(c.bitsPerWeight, 0, 'f', 2)
                               .arg(locale.formattedDataSize(qint64(c.bytes))));
        else if (k < m_running.size())
            it->setToolTip(tr("rows of %1 values are not whole %2 blocks")
                               .arg(t.shape()[1])
                               .arg(QString::fromStdString(dtypeName(m_running[k]))));
        items << it;
    }
    // Tensor rows go above the total row.
    const int at =
        m_model->rowCount() > 0 &&
                m_model->item(m_model->rowCount() - 1, 0)->data(kSortValue).toDouble() > 1e8
            ? m_model->rowCount() - 1
            : m_model->rowCount();
    m_model->insertRow(at, items);
    updateTotal();
}

void ModelTablePanel::updateTotal() {
    const auto session = m_controller->session();
    if (!session || m_rows.empty()) return;
    const QLocale locale;
    double elements = 0.0, stored = 0.0;
    std::vector<double> bytes(std::size_t(columns()), 0.0);
    for (const LlmTableRow& row : m_rows) {
        const Tensor& t = *session->roles[std::size_t(row.role)].tensor;
        stored += double(t.byteSize());
        elements += double(t.elements());
        for (std::size_t k = 0; k < row.cells.size(); ++k)
            if (!std::isnan(row.cells[k].sqnrDb)) bytes[k] += double(row.cells[k].bytes);
    }
    QList<QStandardItem*> items;
    auto* name = item(tr("whole model: %n tensors", nullptr, int(m_rows.size())), 1e9);
    QFont bold = name->font();
    bold.setBold(true);
    name->setFont(bold);
    items << name << item({}, 1e18) << item(locale.formattedDataSize(qint64(stored)), 1e18);
    for (std::size_t k = 0; k < bytes.size(); ++k) {
        auto* it = item(locale.formattedDataSize(qint64(bytes[k])), 1e18);
        it->setToolTip(tr("the %1 tensors in %2: %3 bits/weight on average")
                           .arg(m_rows.size())
                           .arg(k < m_running.size()
                                    ? QString::fromStdString(dtypeName(m_running[k]))
                                    : m_settingsLabel)
                           .arg(elements > 0 ? 8.0 * bytes[k] / elements : 0.0, 0, 'f', 2));
        it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        it->setFont(bold);
        items << it;
    }
    const int last = m_model->rowCount() - 1;
    if (last >= 0 && m_model->item(last, 0)->data(kSortValue).toDouble() > 1e8)
        m_model->removeRow(last);
    m_model->appendRow(items);
}

void ModelTablePanel::onFinished(bool completed, double seconds) {
    m_start->setEnabled(bool(m_controller->session()));
    m_cancel->setEnabled(false);
    m_export->setEnabled(!m_rows.empty());
    if (completed) {
        m_progress->setValue(1000);
        m_status->setText(tr("%n tensors in %1 s; hover a cell for its bits per weight and size. "
                             "The last row is the whole model's size under each format.",
                             nullptr, int(m_rows.size()))
                              .arg(seconds, 0, 'f', 1));
    } else {
        m_status->setText(tr("cancelled after %n tensors", nullptr, int(m_rows.size())));
    }
    emit finished(completed);
}

std::string ModelTablePanel::csv() const { return table().str(); }

void ModelTablePanel::saveCsv(const QString& path) const { table().save(path.toStdString()); }

CsvWriter ModelTablePanel::table() const {
    CsvWriter w;
    std::vector<std::string> header{"tensor", "llama_name", "shape",
                                    "dtype",  "elements",   "stored_bytes"};
    std::vector<std::string> names;
    for (DType f : m_running) names.push_back(dtypeName(f));
    if (m_runningSettings) names.push_back("settings");
    for (const std::string& n : names) {
        header.push_back(n + "_sqnr_db");
        header.push_back(n + "_bits_per_weight");
        header.push_back(n + "_bytes");
    }
    w.row(header);
    const auto session = m_controller->session();
    if (!session) return w;
    for (const LlmTableRow& row : m_rows) {
        const LlamaTensorRole& r = session->roles[std::size_t(row.role)];
        // "4096x256": no comma, so the field needs no quotes.
        w.text(r.fileName)
            .text(r.llamaName)
            .text(shapeText(r.tensor->shape())
                      .replace(QStringLiteral(" \u00d7 "), QStringLiteral("x"))
                      .toStdString());
        w.text(dtypeName(r.tensor->dtype()))
            .integer(r.tensor->elements())
            .integer(static_cast<long long>(r.tensor->byteSize()));
        for (const LlmSchemeCell& c : row.cells) {
            w.number(c.sqnrDb, 6).number(c.bitsPerWeight, 6);
            if (std::isnan(c.sqnrDb))
                w.text("");
            else
                w.integer(static_cast<long long>(c.bytes));
        }
        w.endRow();
    }
    return w;
}

void ModelTablePanel::exportInteractive() {
    const auto session = m_controller->session();
    const QString suggested =
        session ? QFileInfo(session->path).completeBaseName() + "-formats.csv" : QString();
    const QString path = QFileDialog::getSaveFileName(this, tr("Export whole-model table"),
                                                      suggested, tr("CSV (*.csv)"));
    if (path.isEmpty()) return;
    try {
        saveCsv(path);
    } catch (const Error& e) {
        QMessageBox::warning(this, tr("Export whole-model table"), QString::fromUtf8(e.what()));
    }
}

}  // namespace cwb::ui
