# run.gp -- the plots of one simulation run, as PNG and SVG.
# Called by `shardsim run` as: gnuplot -e "dir='RUN_DIR'; name='TITLE'" run.gp
# Reads RUN_DIR/{subtasks,latency,timeseries,failovers}.csv (written by sim/cli/cmd_run.c).
set datafile separator ','
set key top left
set grid

do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 900,540 font ",10" } else { set terminal svg size 900,540 dynamic }

    # Load per subtask: records and keys at the end of the run.
    set output sprintf("%s/load.%s", dir, fmt)
    set title sprintf("%s: load per subtask", name) noenhanced
    set xlabel "subtask"
    set ylabel "records"
    set y2label "keys"
    set ytics nomirror
    set y2tics
    set style fill solid 0.6 border -1
    set boxwidth 0.4
    plot sprintf("%s/subtasks.csv", dir) using ($1-0.2):4 skip 1 with boxes title "records", \
         "" using ($1+0.2):3 skip 1 axes x1y2 with boxes title "keys"
    unset y2tics
    unset y2label
    set ytics mirror

    # Latency CDF from the histogram buckets.
    set output sprintf("%s/latency_cdf.%s", dir, fmt)
    set title sprintf("%s: end-to-end latency CDF", name) noenhanced
    set xlabel "latency (ms)"
    set ylabel "fraction of records"
    set logscale x
    set yrange [0:1]
    plot sprintf("%s/latency.csv", dir) using ($2/1e6):4 skip 1 with steps lw 2 title "CDF"
    unset logscale x
    set yrange [*:*]

    # Latency percentiles over time, failure periods shaded.
    set output sprintf("%s/latency_time.%s", dir, fmt)
    set title sprintf("%s: latency over time (shaded: job down)", name) noenhanced
    set xlabel "time (s)"
    set ylabel "latency (ms)"
    set logscale y
    stats sprintf("%s/timeseries.csv", dir) using 9 skip 1 nooutput
    top = (exists("STATS_max") && STATS_max > 0 ? STATS_max * 2 : 1)
    set yrange [0.001:top]
    set xrange [0:*]
    set boxwidth 1 relative
    plot sprintf("%s/timeseries.csv", dir) using 1:($10 > 0 ? top : 1/0) skip 1 with boxes fs solid 0.25 noborder lc rgb "#e06060" title "down", \
         "" using 1:($5 > 0 ? $5 : 1/0) skip 1 with lines lw 2 title "p50", \
         "" using 1:($7 > 0 ? $7 : 1/0) skip 1 with lines lw 2 title "p99", \
         "" using 1:($8 > 0 ? $8 : 1/0) skip 1 with lines lw 2 title "p99.9"
    unset logscale y
    set yrange [*:*]
    set xrange [*:*]

    # Failover timeline: one row per failure, its phases as segments.
    set output sprintf("%s/failover.%s", dir, fmt)
    set title sprintf("%s: failover timeline", name) noenhanced
    set xlabel "time (s)"
    set ylabel "failure"
    set ytics 1
    stats sprintf("%s/failovers.csv", dir) using 3 skip 1 nooutput
    failures = (exists("STATS_records") ? STATS_records : 0)
    set yrange [0.5:(failures > 0 ? failures : 1) + 0.5]
    if (failures > 0) {
        # columns: 3 fault, 4 detected, 5 restarted, 6 restored, 7 caught up, 13 elected (-1: none)
        plot sprintf("%s/failovers.csv", dir) using 3:($0+1):($4-$3):(0) skip 1 with vectors nohead lw 8 lc rgb "#d62728" title "detection", \
             "" using 4:($0+1):($13 > 0 ? $13-$4 : 0):(0) skip 1 with vectors nohead lw 8 lc rgb "#9467bd" title "election", \
             "" using ($13 > 0 ? $13 : $4):($0+1):($5-($13 > 0 ? $13 : $4)):(0) skip 1 with vectors nohead lw 8 lc rgb "#ff7f0e" title "restart delay", \
             "" using 5:($0+1):($6-$5):(0) skip 1 with vectors nohead lw 8 lc rgb "#1f77b4" title "restore", \
             "" using 6:($0+1):($7-$6):(0) skip 1 with vectors nohead lw 8 lc rgb "#2ca02c" title "catch-up"
    } else {
        set label 1 "no failures in this run" at graph 0.5, graph 0.5 center
        plot 1/0 notitle
        unset label 1
    }
    set ytics autofreq
    set yrange [*:*]
}
