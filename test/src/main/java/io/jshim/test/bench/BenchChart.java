package io.jshim.test.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The table as a PNG: one panel per figure, a bar for jshim and one for the Go shim (p90 as a thin mark above
 * the latency bars), and the must (red) and goal (green) bounds as dashed lines in the figure's unit.
 */
final class BenchChart {
    private static final int PANEL_W = 300;
    private static final int PANEL_H = 260;
    private static final Color JSHIM = new Color(0xE76F00);
    private static final Color GO = new Color(0x00ADD8);

    private BenchChart() {}

    static void write(Report report, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Figure> figures = report.figures();
        int cols = 3;
        int rows = (figures.size() + cols - 1) / cols;
        BufferedImage img = new BufferedImage(cols * PANEL_W, rows * PANEL_H + 70, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString("jshim (orange) vs containerd-shim-runc-v2 (blue), one run; dashed: must (red), goal (green)",
                12, 25);
        for (int i = 0; i < figures.size(); i++) {
            panel(g, figures.get(i), (i % cols) * PANEL_W, 40 + (i / cols) * PANEL_H);
        }
        ShimMemory standby = report.standby();
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.drawString(("Beside every memory figure: jshim's idle warm standby, RSS %.1f MB, PSS %.1f MB, %d threads,"
                + " paid once per node (not per pod)").formatted(standby.rssMb(), standby.pssMb(), standby.threads()),
                12, 40 + rows * PANEL_H + 20);
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private static void panel(Graphics2D g, Figure f, int x0, int y0) {
        int left = x0 + 50;
        int bottom = y0 + PANEL_H - 45;
        int top = y0 + 40;
        double max = 1.15 * max(f.jshim(), f.go(), f.jshimP90(), f.goP90(), f.mustLimit(), f.goalLimit());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString(f.name(), x0 + 8, y0 + 18);
        g.drawString("%s: %.2fx of Go, %s".formatted(f.unit(), f.ratio(), f.verdict()), x0 + 8, y0 + 34);
        g.drawLine(left, top, left, bottom);
        g.drawLine(left, bottom, x0 + PANEL_W - 15, bottom);
        for (int t = 0; t <= 4; t++) {
            double v = max * t / 4;
            int y = bottom - (int) ((bottom - top) * t / 4.0);
            g.drawString(v >= 10 ? "%.0f".formatted(v) : "%.1f".formatted(v), x0 + 8, y + 4);
        }
        bar(g, f.jshim(), f.jshimP90(), max, left + 30, bottom, top, JSHIM, "jshim");
        bar(g, f.go(), f.goP90(), max, left + 130, bottom, top, GO, "Go");
        bound(g, f.mustLimit(), max, left, bottom, top, x0 + PANEL_W - 15, Color.RED);
        bound(g, f.goalLimit(), max, left, bottom, top, x0 + PANEL_W - 15, new Color(0x2E9E2E));
    }

    private static void bar(Graphics2D g, double v, double p90, double max, int x, int bottom, int top, Color c,
                            String label) {
        int w = 70;
        int h = Double.isNaN(v) ? 0 : (int) ((bottom - top) * v / max);
        g.setColor(c);
        g.fillRect(x, bottom - h, w, h);
        g.setColor(Color.BLACK);
        g.drawString(label, x + 5, bottom + 16);
        g.drawString(v >= 10 ? "%.0f".formatted(v) : "%.1f".formatted(v), x + 5, bottom - h - 4);
        if (!Double.isNaN(p90)) {
            int y = bottom - (int) ((bottom - top) * p90 / max);
            g.drawLine(x + w / 2 - 10, y, x + w / 2 + 10, y);
            g.drawLine(x + w / 2, y, x + w / 2, bottom - h);
        }
    }

    private static void bound(Graphics2D g, double v, double max, int left, int bottom, int top, int right, Color c) {
        if (Double.isNaN(v)) {
            return;
        }
        int y = bottom - (int) ((bottom - top) * v / max);
        g.setColor(c);
        g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
        g.drawLine(left, y, right, y);
        g.setStroke(new BasicStroke());
    }

    private static double max(double... vs) {
        double m = 0;
        for (double v : vs) {
            if (!Double.isNaN(v)) {
                m = Math.max(m, v);
            }
        }
        return m == 0 ? 1 : m;
    }
}
