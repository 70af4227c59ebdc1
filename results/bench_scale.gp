# bench_scale.gp -- how the simulator's cost grows (README "How the cost grows"), as PNG
# and SVG: records/s and peak bytes per key against distinct keys and against subtasks,
# and `shardsim run --jobs J` runs per second. Made from the project root by
#   build/release/bench/bench_scenario --sweep
#   gnuplot -e "machine='2-core x86-64 VM, L2 2 MiB/core, L3 480 MiB'" results/bench_scale.gp
# Reads results/bench/scenario_{keys,subtasks,jobs}.csv (bench/bench_scenario.c), writes
# results/figures/scale_{keys,subtasks,jobs}.{png,svg}. Optional -e variables: dir (the
# CSVs' folder), figs (the output folder), machine and build (the titles), l2_bytes and
# l3_bytes (cache sizes marked on the keys figure; default: getconf's).
set datafile separator ','
set datafile missing ''
set key top right noenhanced
set grid
if (!exists("dir")) dir = "results/bench"
if (!exists("figs")) figs = "results/figures"
if (!exists("machine")) machine = sprintf("%s-core machine", system("nproc"))
if (!exists("build")) build = "release build"
if (!exists("l2_bytes")) l2_bytes = system("getconf LEVEL2_CACHE_SIZE") + 0
if (!exists("l3_bytes")) l3_bytes = system("getconf LEVEL3_CACHE_SIZE") + 0

fk = sprintf("%s/scenario_keys.csv", dir)
fs = sprintf("%s/scenario_subtasks.csv", dir)
fj = sprintf("%s/scenario_jobs.csv", dir)
where = sprintf("shardsim %s, %s, one run per point on one core", build, machine)
host = sprintf("shardsim %s, %s", build, machine)
# the marginal bytes per key held (mean of the difference column): where the state
# outgrows a cache of c bytes, in keys held
stats fk using 10 nooutput
per_key = STATS_mean
at(c) = c / per_key
mib(c) = c / 1048576.0

do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 900,540 font ",10" } else { set terminal svg size 900,540 dynamic }

    # records/s and bytes per key against distinct keys (128 subtasks)
    set output sprintf("%s/scale_keys.%s", figs, fmt)
    set title sprintf("cost against distinct keys: 128 subtasks on 32 workers, same records per point\n%s", where) noenhanced
    set logscale x
    set logscale y2
    set xlabel "distinct keys (uniform); the state holds K (1 - exp(-records / K)) of them" noenhanced
    set ylabel "simulated records per second of wall time (M records/s)"
    set y2label "peak RSS bytes per key held (log)"
    set yrange [0:*]
    set y2range [*:*]
    set ytics nomirror
    set y2tics
    set xrange [5000:2e7]
    unset arrow
    unset label
    set arrow 1 from at(l2_bytes), graph 0 to at(l2_bytes), graph 1 nohead dt 3 lw 1.5 lc rgb "gray40"
    set label 1 sprintf("state > L2 (%.0f MiB)", mib(l2_bytes)) at at(l2_bytes), graph 0.06 rotate by 90 offset -1,0 tc rgb "gray30"
    set arrow 2 from at(l3_bytes), graph 0 to at(l3_bytes), graph 1 nohead dt 3 lw 1.5 lc rgb "gray40"
    set label 2 sprintf("state > L3 (%.0f MiB)", mib(l3_bytes)) at at(l3_bytes), graph 0.06 rotate by 90 offset -1,0 tc rgb "gray30"
    plot fk using 2:($7 / 1e6) with linespoints pt 7 lw 2 axes x1y1 title "records/s", \
         fk using 2:9 with linespoints pt 5 lw 2 dt 2 axes x1y2 title "peak RSS / keys held", \
         fk using 2:10 with linespoints pt 9 lw 2 dt 4 axes x1y2 title "peak RSS per extra key (difference)"

    # records/s and bytes per key against subtasks (1e6 keys)
    set output sprintf("%s/scale_subtasks.%s", figs, fmt)
    set title sprintf("cost against subtasks: 1e6 keys, workers = subtasks / 4, same records per point\n%s", where) noenhanced
    unset arrow
    unset label
    set logscale x 2
    set xrange [6:1400]
    set xlabel "keyed operator subtasks N (log 2)"
    set ylabel "simulated records per second of wall time (M records/s)"
    set y2label "peak RSS bytes per key held"
    unset logscale y2
    set y2range [0:*]
    plot fs using 3:($7 / 1e6) with linespoints pt 7 lw 2 axes x1y1 title "records/s", \
         fs using 3:9 with linespoints pt 5 lw 2 dt 2 axes x1y2 title "peak RSS / keys held"

    # runs per second of `shardsim run --jobs J`
    set output sprintf("%s/scale_jobs.%s", figs, fmt)
    set title sprintf("shardsim run --jobs J: a 16-run sweep (skew, 4 partitioners x 4 Zipf exponents)\n%s", host) noenhanced
    unset logscale x
    unset logscale y2
    unset y2tics
    unset y2label
    set ytics mirror
    set xrange [0.4:2.6]
    set yrange [0:*]
    set xtics 1
    set xlabel "worker processes J (--jobs)"
    set ylabel "runs per second of wall time"
    set style fill solid 0.6 border -1
    set boxwidth 0.5
    plot fj using 1:4 with boxes notitle, \
         fj using 1:4:(sprintf("%.2f runs/s (%.2fx)", $4, $5)) with labels offset 0,1 notitle
}
