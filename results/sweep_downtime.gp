# sweep_downtime.gp -- failover time (fault to processing again) against the first swept
# parameter, one series per value of the second (e.g. per fault kind): the median of each
# cell's runs with its p10..p90 interval, so the spread over seeds and crash phases shows.
# Called by `shardsim run` as:
#   gnuplot -e "dir='DIR'; name='SCENARIO'; param='T'; series=N" sweep_downtime.gp
# Reads DIR/sweep_downtime_plot.csv (written by sim/cli/cmd_run.c):
#   x, then per series: median, p10, p90 (seconds).
set datafile separator ','
set datafile missing ''
set key top left noenhanced autotitle columnhead
set grid
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 900,540 font ",10" } else { set terminal svg size 900,540 dynamic }
    set output sprintf("%s/sweep_downtime.%s", dir, fmt)
    set title sprintf("%s: failover time vs %s (median and p10..p90 over runs)", name, param) noenhanced
    set xlabel param noenhanced
    set ylabel "failover time: fault to processing again (s)"
    set yrange [0:*]
    set offsets 0.5, 0.5, 0, 0
    w = series > 1 ? 0.3 / (series - 1) : 0
    f = sprintf("%s/sweep_downtime_plot.csv", dir)
    plot f using 0:(NaN):xtic(1) notitle, \
        for [k=0:series-1] f using ($0 + (k - (series - 1) / 2.0) * w):(column(2 + 3*k)):(column(3 + 3*k)):(column(4 + 3*k)) \
        with yerrorlines pt 7 lw 2 title columnhead(2 + 3*k)
}
