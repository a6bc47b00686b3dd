// Common ground of every plot in the window: projector-readable fonts and pens, a title,
// a centred message for "nothing to show yet", a right-click menu to save the plot as
// PNG or PDF, and queued replots so that a burst of updates costs one paint.
#pragma once

#include <qcustomplot.h>

namespace cwb::ui {

namespace palette {
inline const QColor original{70, 120, 190};    // float32 weights, baselines
inline const QColor compressed{230, 120, 20};  // compressed weights, current values
inline const QColor accent{200, 40, 60};       // current point, levels
inline const QColor secondary{40, 150, 90};    // a second axis (latency, accuracy on the right)
inline const QColor muted{150, 150, 150};
}  // namespace palette

class PlotBase : public QCustomPlot {
    Q_OBJECT
public:
    explicit PlotBase(const QString& title, QWidget* parent = nullptr);

    void setTitle(const QString& title);
    QString title() const;
    // A grey message across the plot (e.g. "no model loaded"); empty hides it.
    void setMessage(const QString& message);
    QString message() const;
    // Saves by extension: .pdf as vector graphics, anything else as PNG; atomically (an
    // existing file survives a failure). Returns false on failure.
    bool saveTo(const QString& path, int width = 0, int height = 0);
    void queueReplot() { replot(QCustomPlot::rpQueuedReplot); }

    QSize minimumSizeHint() const override { return {260, 180}; }

protected:
    // Styles one axis for the projector: bigger fonts, thicker pens.
    static void styleAxis(QCPAxis* axis, const QString& label);
    static QFont plotFont(int pointSizeDelta = 0, bool bold = false);
    // Puts the legend in one row under the title, where it never hides data.
    void placeLegendUnderTitle();
    // Draws plottables without antialiasing: histogram bars are axis-aligned rectangles, so
    // they come out as sharp and a redraw of a few hundred of them costs a fraction.
    void useCrispBars();

private:
    void showContextMenu(const QPoint& pos);
    QCPTextElement* m_title;
    QCPItemText* m_message;
};

}  // namespace cwb::ui
