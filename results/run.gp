# run.gp -- the plots of one simulation run, as PNG and SVG.
# Called by `shardsim run` as: gnuplot -e "dir='RUN_DIR'; name='TITLE'" run.gp
# (TITLE says what the run was: "failover run 7: T=10 fault=20 crash-leader 0").
# Reads RUN_DIR/{subtasks,latency,timeseries,failovers,faults}.csv (sim/report.c).
set datafile separator ','
set key outside right top
set grid

# time-series columns: 1 t_s, 5 p50, 7 p99, 8 p99.9, 9 max (ms), 10 down, 11 rolled_back
ts = sprintf("%s/timeseries.csv", dir)
fo = sprintf("%s/failovers.csv", dir)
fl = sprintf("%s/faults.csv", dir)
# data rows of a CSV (0 when it is missing), without gnuplot's warnings on empty files
rows(f) = system(sprintf("tail -n +2 '%s' 2>/dev/null | grep -c . || true", f)) + 0
faults = rows(fl)
failures = rows(fo)

do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 1000,560 font ",10" } else { set terminal svg size 1000,560 dynamic }

    # Load per subtask: records and keys at the end of the run.
    set output sprintf("%s/load.%s", dir, fmt)
    set title sprintf("%s\nload per subtask at the end", name) noenhanced
    set xlabel "subtask"
    set ylabel "records processed"
    set y2label "distinct keys"
    set yrange [0:*]
    set y2range [0:*]
    set ytics nomirror
    set y2tics
    set style fill solid 0.6 border -1
    set boxwidth 0.4
    plot sprintf("%s/subtasks.csv", dir) using ($1-0.2):4 skip 1 with boxes title "records", \
         "" using ($1+0.2):3 skip 1 axes x1y2 with boxes title "keys"
    unset y2tics
    unset y2label
    set y2range [*:*]
    set yrange [*:*]
    set ytics mirror

    # Latency CDF from the histogram buckets (x in ms, labelled in readable units).
    set output sprintf("%s/latency_cdf.%s", dir, fmt)
    set title sprintf("%s\nend-to-end latency CDF (every record's final processing)", name) noenhanced
    set xlabel "end-to-end latency"
    set ylabel "fraction of records"
    set logscale x
    set xtics ("1 µs" 0.001, "10 µs" 0.01, "100 µs" 0.1, "1 ms" 1, "10 ms" 10, "100 ms" 100, "1 s" 1000, "10 s" 10000, "100 s" 100000, "1000 s" 1e6)
    set yrange [0:1]
    plot sprintf("%s/latency.csv", dir) using ($2/1e6):4 skip 1 with steps lw 2 title "CDF"
    unset logscale x
    set xtics autofreq
    set yrange [*:*]

    # Latency percentiles over time: windows in which nothing was processed shaded red,
    # windows whose work a later restore rolled back shaded amber, every fault marked.
    set output sprintf("%s/latency_time.%s", dir, fmt)
    set title sprintf("%s\nlatency over time", name) noenhanced
    set xlabel "time (s)"
    set ylabel "latency (ms)"
    set logscale y
    stats ts using 9 skip 1 nooutput
    top = (exists("STATS_max") && STATS_max > 0 ? STATS_max * 4 : 1)
    undefine STATS_*
    set yrange [0.001:top]
    set xrange [0:*]
    set boxwidth 1 relative
    # the fault marks only when there are faults (a labels element without points
    # crashes gnuplot 5.4)
    if (faults > 0) {
        plot ts using 1:($10 > 0 ? top : 1/0) skip 1 with boxes fs solid 0.25 noborder lc rgb "#e06060" title "nothing processed", \
             ts using 1:($11 > 0 && $10 == 0 ? top : 1/0) skip 1 with boxes fs solid 0.25 noborder lc rgb "#f0b040" title "work rolled back later", \
             ts using 1:($5 > 0 ? $5 : 1/0) skip 1 with lines lw 2 title "p50", \
             ts using 1:($7 > 0 ? $7 : 1/0) skip 1 with lines lw 2 title "p99", \
             ts using 1:($8 > 0 ? $8 : 1/0) skip 1 with lines lw 2 title "p99.9", \
             fl using 1:(0.001):(0):(top) skip 1 with vectors nohead dt 2 lc rgb "#555555" title "fault", \
             fl using 1:(top / 2):(sprintf(" %s %s", strcol(2), strcol(3))) skip 1 with labels rotate by -90 left font ",8" tc rgb "#555555" notitle
    } else {
        plot ts using 1:($10 > 0 ? top : 1/0) skip 1 with boxes fs solid 0.25 noborder lc rgb "#e06060" title "nothing processed", \
             ts using 1:($11 > 0 && $10 == 0 ? top : 1/0) skip 1 with boxes fs solid 0.25 noborder lc rgb "#f0b040" title "work rolled back later", \
             ts using 1:($5 > 0 ? $5 : 1/0) skip 1 with lines lw 2 title "p50", \
             ts using 1:($7 > 0 ? $7 : 1/0) skip 1 with lines lw 2 title "p99", \
             ts using 1:($8 > 0 ? $8 : 1/0) skip 1 with lines lw 2 title "p99.9"
    }
    unset logscale y
    set yrange [*:*]
    set xrange [*:*]

    # Failover timeline: one row per failure (labelled with its fault), its phases as
    # segments, each at least 0.5% of the axis wide so that short ones show; the
    # durations written above the bar, from the left edge (a labels element without
    # points crashes gnuplot 5.4, so there is one, for every row).
    set output sprintf("%s/failover.%s", dir, fmt)
    set title sprintf("%s\nfailover timeline", name) noenhanced
    set xlabel "time (s)"
    set ylabel ""
    if (failures > 0) {
        # columns: 1 kind, 2 target, 3 fault, 4 detected, 5 restarted, 6 restored,
        # 7 caught up, 13 elected (-1: none)
        stats fo using 3 skip 1 nooutput
        lo = STATS_min
        undefine STATS_*
        stats fo using ($7 > 0 ? $7 : $6) skip 1 nooutput
        hi = STATS_max
        undefine STATS_*
        span = (hi > lo ? hi - lo : 1)
        minw = span * 0.005
        set xrange [lo - span * 0.02 : hi + span * 0.02]
        set yrange [0.4:failures + 0.8]
        wd(a, b) = (b - a > minw ? b - a : minw)
        el(e, d) = (e > 0 ? e : d)
        phases(f, d, e, r, s, c) = sprintf("detect %.2f s, elect %s, restart %.2f s, restore %.2f s, catch-up %.2f s", d - f, (e > 0 ? sprintf("%.2f s", e - d) : "-"), r - el(e, d), s - r, (c > 0 ? c - s : 0))
        # drawn last phase first, so that a short phase drawn after stays on top
        plot fo using 6:($0+1):(wd($6, $7)):(0):ytic(sprintf("%s %s", strcol(1), strcol(2))) skip 1 with vectors nohead lw 10 lc rgb "#2ca02c" title "catch-up", \
             fo using 5:($0+1):(wd($5, $6)):(0) skip 1 with vectors nohead lw 10 lc rgb "#1f77b4" title "restore", \
             fo using (el($13, $4)):($0+1):(wd(el($13, $4), $5)):(0) skip 1 with vectors nohead lw 10 lc rgb "#ff7f0e" title "restart delay", \
             fo using 4:($0+1):($13 > 0 ? wd($4, $13) : 0):(0) skip 1 with vectors nohead lw 10 lc rgb "#9467bd" title "election", \
             fo using 3:($0+1):(wd($3, $4)):(0) skip 1 with vectors nohead lw 10 lc rgb "#d62728" title "detection", \
             fo using (lo - span * 0.015):($0+1.28):(phases($3, $4, $13, $5, $6, $7)) skip 1 with labels left font ",8" notitle
        set xrange [*:*]
    } else {
        set yrange [0:1]
        set label 1 "no failures in this run" at graph 0.5, graph 0.5 center
        plot 1/0 notitle
        unset label 1
    }
    set ytics autofreq
    set yrange [*:*]
}
