# sweep.gp -- p99 latency and load balance against the first swept parameter, one
# series per value of the second (e.g. per fault kind), each point the median of the
# cell's runs. Categorical values (partitioners, fault kinds) are drawn as grouped bars,
# numbers as lines.
# Called by `shardsim run` as:
#   gnuplot -e "dir='DIR'; name='TITLE'; param='N'; by='K'; series=S; categorical=C" sweep.gp
# Reads DIR/sweep_plot.csv (written by sim/cli/sweep_figs.c): x, then per series its
# p99_ms and records_max_mean, both columns headed by the series' name.
set datafile separator ','
set datafile missing ''
set key outside right top noenhanced autotitle columnhead
set grid ytics
f = sprintf("%s/sweep_plot.csv", dir)
w = categorical ? 0.8 / series : (series > 1 ? 0.3 / (series - 1) : 0)
off(k) = categorical ? (k - (series - 1) / 2.0) * w : (k - (series - 1) / 2.0) * w
keytitle = (by eq "" ? "" : by)
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 1000,700 font ",10" } else { set terminal svg size 1000,700 dynamic }
    set output sprintf("%s/sweep.%s", dir, fmt)
    set multiplot layout 2,1 title sprintf("%s: p99 latency and load balance vs %s (median of each cell's runs)", name, param) noenhanced
    set key title keytitle noenhanced
    set xlabel param noenhanced
    set offsets 0.5, 0.5, 0, 0
    set xtics rotate by -20 noenhanced
    set style fill solid 0.7 border -1
    set boxwidth w
    set ylabel "p99 latency (ms)"
    set yrange [0:*]
    if (categorical) {
        plot f using 0:(NaN):xtic(1) notitle, \
            for [k=0:series-1] f using ($0 + off(k)):(column(2 + 2*k)) with boxes title columnhead(2 + 2*k)
    } else {
        plot f using 0:(NaN):xtic(1) notitle, \
            for [k=0:series-1] f using ($0 + off(k)):(column(2 + 2*k)) with linespoints pt 7 lw 2 title columnhead(2 + 2*k)
    }
    set ylabel "records per subtask: max / mean (1 = even)"
    set yrange [1:*]
    if (categorical) {
        plot f using 0:(NaN):xtic(1) notitle, \
            for [k=0:series-1] f using ($0 + off(k)):(column(3 + 2*k)) with boxes title columnhead(3 + 2*k)
    } else {
        plot f using 0:(NaN):xtic(1) notitle, \
            for [k=0:series-1] f using ($0 + off(k)):(column(3 + 2*k)) with linespoints pt 7 lw 2 title columnhead(3 + 2*k)
    }
    unset multiplot
}
