# sweep_downtime.gp -- failover time (fault to processing again) against the first swept
# parameter, one line per value of the second: e.g. the failover scenario's downtime vs
# session timeout, per fault kind.
# Called by `shardsim run` as:
#   gnuplot -e "dir='DIR'; name='SCENARIO'; param='T'; series=N" sweep_downtime.gp
# Reads DIR/sweep_downtime.csv (written by sim/cli/cmd_run.c): PARAM,series1,series2,...
set datafile separator ','
set key top left noenhanced
set grid
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 900,540 font ",10" } else { set terminal svg size 900,540 dynamic }
    set output sprintf("%s/sweep_downtime.%s", dir, fmt)
    set title sprintf("%s: failover time vs %s", name, param) noenhanced
    set xlabel param noenhanced
    set ylabel "failover time: fault to processing again (s)"
    set yrange [0:*]
    plot for [c=2:series+1] sprintf("%s/sweep_downtime.csv", dir) using 0:c:xtic(1) with linespoints pt 7 lw 2 title columnhead(c)
}
