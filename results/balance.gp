# balance.gp -- plots of `shardsim balance`, as PNG and SVG.
# Called as: gnuplot -e "csv='DIR/balance.csv'; outdir='DIR'; parts='modulo flink ...'" balance.gp
# Columns (see sim/cli/cmd_balance.c): 1 partitioner, 2 parallelism, 6 keys_max_mean,
# 9 ideal_max_mean, 15 rescale_to, 16 moved_keys, 20 min_moved.
set datafile separator ','
set key outside right top noenhanced
set grid
set logscale x 2
set xlabel "parallelism N"
set style data linespoints

do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 900,540 font ",10" } else { set terminal svg size 900,540 dynamic }

    set output sprintf("%s/balance.%s", outdir, fmt)
    set title "Keys per subtask: max/mean by partitioner (lower is better; 1 = even)"
    set ylabel "max / mean keys per subtask"
    # each partitioner its own point type and dash pattern: curves that coincide (ring
    # and bounded at low load) stay distinguishable
    plot for [i=1:words(parts)] csv using (strcol(1) eq word(parts, i) ? $2 : 1/0):6 skip 1 lw 2 pt i dt i ps 1.2 title word(parts, i), \
         csv using (strcol(1) eq word(parts, 1) ? $2 : 1/0):9 skip 1 dt 2 lw 2 lc rgb "black" title "ideal random"

    set output sprintf("%s/movement.%s", outdir, fmt)
    set title "Keys moved when growing N -> N+1, by partitioner"
    set ylabel "fraction of keys moved"
    set logscale y
    plot for [i=1:words(parts)] csv using (strcol(1) eq word(parts, i) && strcol(15) ne "" ? $2 : 1/0):16 skip 1 lw 2 pt i dt i ps 1.2 title word(parts, i), \
         csv using (strcol(1) eq word(parts, 1) && strcol(15) ne "" ? $2 : 1/0):20 skip 1 dt 2 lw 2 lc rgb "black" title "minimum |D|/max(N,N')"
    unset logscale y
}
