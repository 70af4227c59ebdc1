# run.gp -- the plots of one simulation run, as PNG and SVG.
# Called by `shardsim run` as: gnuplot -e "dir='RUN_DIR'; name='TITLE'; jobmanagers=J" run.gp
# (TITLE says what the run was: "failover run 7: T=10 fault=20 crash-leader 0"; J the run's
# job managers, a row each in the split-brain plot, 0 or unset: the rows that have data).
# Reads RUN_DIR/{subtasks,latency,timeseries,failovers,faults,leaders,commits,rescales}.csv
# (sim/report.c).
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
ld = sprintf("%s/leaders.csv", dir)
cm = sprintf("%s/commits.csv", dir)
rs = sprintf("%s/rescales.csv", dir)
leaders = rows(ld)
# commits.csv rows with outcome o (column 5)
outcomes(o) = system(sprintf("cut -d, -f5 '%s' 2>/dev/null | grep -cx '%s' || true", cm, o)) + 0
committed = outcomes("committed")
stale = outcomes("stale")
refused = outcomes("refused")
lost = outcomes("failed")
# the rescales of rescales.csv (its failovers.csv rows), as a list for `do for`
# faults.csv rows with a duration (column 4)
lasting = system(sprintf("tail -n +2 '%s' 2>/dev/null | cut -d, -f4 | grep -c . || true", fl)) + 0
rescale_list = system(sprintf("tail -n +2 '%s' 2>/dev/null | cut -d, -f1 | uniq | tr '\\n' ' '", rs))
rescale_count = words(rescale_list)

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
    # Split brain: each job manager's leaderships as it believed them (bars labelled with
    # their epoch), every commit answer where its job manager heard it (a stale commit is
    # one acknowledged after a successor was elected), the faults as dashed lines. Each
    # optional element is added only when it has rows (gnuplot 5.4 and empty labels).
    if (leaders > 0) {
        set output sprintf("%s/split_brain.%s", dir, fmt)
        set title sprintf("%s\nleaders, epochs and commits", name) noenhanced
        set xlabel "time (s)"
        set ylabel "job manager"
        stats ld using 1 skip 1 nooutput
        jms = STATS_max + 1
        undefine STATS_*
        if (exists("jobmanagers") && jobmanagers > jms) { jms = jobmanagers }
        if (committed + stale + refused + lost > 0) {
            stats cm using 2 skip 1 nooutput
            jms = (STATS_max + 1 > jms ? STATS_max + 1 : jms)
            undefine STATS_*
        }
        stats ld using 4 skip 1 nooutput
        set xrange [0:STATS_max * 1.02]
        undefine STATS_*
        set yrange [-0.7:jms - 0.3]
        set ytics 1
        set format y "jm %.0f"
        is(o) = (strcol(5) eq o ? $2 - 0.2 : 1/0)
        # the faults that last (a partition, a pause) shaded first, under the rest
        sb = (lasting > 0 ? "fl using ($4 > 0 ? $1 + $4 / 2 : 1/0):(jms / 2.0 - 0.5):($4 / 2):(jms / 2.0 + 0.2) skip 1 with boxxyerror fs transparent solid 0.08 noborder lc rgb '#555555' title 'fault lasting', " : "")
        sb = sb . "ld using 3:1:($4 - $3):(0) skip 1 with vectors nohead lw 12 lc rgb '#1f77b4' title 'leads (as it believes)'"
        sb = sb . ", ld using (($3 + $4) / 2):($1 + 0.2):(sprintf('epoch %d', $2)) skip 1 with labels font ',9' notitle"
        if (committed > 0) { sb = sb . ", cm using 1:(is('committed')) skip 1 with points pt 7 ps 0.6 lc rgb '#2ca02c' title 'committed'" }
        if (stale > 0) { sb = sb . ", cm using 1:(is('stale')) skip 1 with points pt 7 ps 1.4 lc rgb '#d62728' title 'stale commit'" }
        if (refused > 0) { sb = sb . ", cm using 1:(is('refused')) skip 1 with points pt 2 ps 1.4 lw 2 lc rgb '#777777' title 'refused by fencing'" }
        if (lost > 0) { sb = sb . ", cm using 1:(is('failed')) skip 1 with points pt 8 ps 1.0 lc rgb '#ff7f0e' title 'commit lost'" }
        if (stale + refused > 0) { sb = sb . ", cm using 1:(strcol(5) eq 'stale' || strcol(5) eq 'refused' ? $2 - 0.2 : 1/0):(sprintf('  checkpoint %d', $4)) skip 1 with labels left font ',8' notitle" }
        if (faults > 0) {
            sb = sb . ", fl using 1:(-0.7):(0):(jms + 0.4) skip 1 with vectors nohead dt 2 lc rgb '#555555' title 'fault'"
            sb = sb . ", fl using 1:(jms - 0.35):(sprintf(' %s %s', strcol(2), strcol(3))) skip 1 with labels rotate by -90 left font ',8' tc rgb '#555555' notitle"
        }
        eval "plot " . sb
        set format y "% h"
        set ytics autofreq
        set xrange [*:*]
        set yrange [*:*]
    }

    # Rescale: the state each subtask gave and took, one panel per rescale, titled with
    # its parallelism before and after, when and how long the job was paused.
    if (rescale_count > 0) {
        if (fmt eq "png") { set terminal pngcairo size 1000,(200 + 360 * rescale_count) font ",10" } else { set terminal svg size 1000,(200 + 360 * rescale_count) dynamic }
        set output sprintf("%s/rescale.%s", dir, fmt)
        stats rs using 9:10 skip 1 nooutput
        top = (STATS_max_x > STATS_max_y ? STATS_max_x : STATS_max_y)
        undefine STATS_*
        unit = (top >= 1e9 ? 1e9 : top >= 1e6 ? 1e6 : 1e3)
        set ylabel sprintf("state moved (%s)", unit == 1e9 ? "GB" : unit == 1e6 ? "MB" : "kB")
        set xlabel "subtask"
        stats rs using 6 skip 1 nooutput
        last_subtask = STATS_max
        undefine STATS_*
        set xtics 1
        set style fill solid 0.6 border -1
        set boxwidth 0.4 absolute
        set multiplot layout rescale_count, 1
        do for [k in rescale_list] {
            one(c) = ($1 == k + 0 ? column(c) : 1/0)
            set xrange [*:*] # stats below honour the ranges of the previous panel
            set yrange [*:*]
            stats rs using (one(2)):(one(3)) skip 1 nooutput
            from = STATS_max_x
            to = STATS_max_y
            undefine STATS_*
            stats rs using (one(4)):(one(5)) skip 1 nooutput
            at = STATS_max_x
            paused = STATS_max_y
            undefine STATS_*
            set xrange [-0.7:last_subtask + 0.7]
            set yrange [0:*]
            pause_text = (paused >= 0 ? sprintf("paused %.2f s", paused) : "never resumed")
            head = (k eq word(rescale_list, 1) ? name . "\n" : "")
            set title sprintf("%srescale %d -> %d at %.1f s: %s", head, from, to, at, pause_text) noenhanced
            plot rs using ($6 - 0.2):(one(9) / unit) skip 1 with boxes lc rgb "#d62728" title "moved out", \
                 rs using ($6 + 0.2):(one(10) / unit) skip 1 with boxes lc rgb "#1f77b4" title "moved in"
        }
        unset multiplot
        set xtics autofreq
        set xrange [*:*]
        set yrange [*:*]
    }
}
