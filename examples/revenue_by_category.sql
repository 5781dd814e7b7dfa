-- Revenue by category: what each product category earned, every purchase event being one unit
-- sold at the product's price, with the number of purchases, the average price paid and the
-- category's share of all revenue. Highest revenue first.
SELECT category,
       count(*) AS purchases,
       sum(price) AS revenue,
       round(avg(price), 2) AS avg_price,
       round(100 * sum(price) / sum(sum(price)) OVER (), 1) AS pct_of_revenue
FROM user_events
WHERE event_type = 'purchase'
GROUP BY category
ORDER BY revenue DESC, category;
